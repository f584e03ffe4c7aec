import Foundation

/// What a KServe ServingRuntime hands its container: the model storage mounted at a folder
/// (`--model_dir`, usually /mnt/models), the InferenceService's name (`--model_name`) and the
/// ports; `$PORT` where a platform sets it. The server then listens on every interface.
public enum KServeConventions {
    /// The one model file (`.h5`) in `folder`; an error names what is there when there is none
    /// or more than one.
    public static func model(in folder: String) throws -> String {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw ServeError.badRequest("--model_dir \(folder) cannot be read: \(error.localizedDescription)")
        }
        let models = names.filter { $0.hasSuffix(".h5") && !$0.hasPrefix(".") }.sorted()
        guard models.count == 1, let only = models.first else {
            let found = models.isEmpty ? "none" : models.joined(separator: ", ")
            throw ServeError.badRequest("--model_dir \(folder) must hold exactly one .h5 model; found \(found)")
        }
        return (folder as NSString).appendingPathComponent(only)
    }

    /// The port: the option, else `$PORT`, else 8080.
    public static func port(option: Int?, environment: [String: String]) throws -> Int {
        if let option { return option }
        guard let text = environment["PORT"] else { return 8080 }
        guard let port = Int(text), (1...65535).contains(port) else {
            throw ServeError.badRequest("$PORT must be a port number, got '\(text)'")
        }
        return port
    }
}
