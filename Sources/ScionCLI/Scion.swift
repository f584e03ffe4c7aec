import ArgumentParser
import ScionGraph

/// The `scion` command: each subcommand, or family of them, is one file in this module.
public struct Scion: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "scion",
        abstract: "Train image classifiers on untrusted data, trap a backdoor in the head, and replace it.",
        version: ScionVersion.string,
        subcommands: [
            InitCommand.self, InspectCommand.self, RunCommand.self, PredictCommand.self, CompileCommand.self,
            BenchCommand.self,
            DatasetsCommand.self, PoisonCommand.self, TrainCommand.self, TrapCommand.self, ReplaceCommand.self,
            RecoverCommand.self, DefendCommand.self,
            EvalCommand.self, CutCommand.self, GraftCommand.self, ExportCommand.self, ImportCommand.self,
            KeygenCommand.self, SignCommand.self,
            VerifyCommand.self,
            ServeCommand.self, LoadCommand.self
        ])

    public init() {}
}
