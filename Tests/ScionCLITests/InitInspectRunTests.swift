import Foundation
import ScionFormat
import ScionGraph
import ScionTestSupport
import Testing

@Suite struct InitInspectRunTests {
    let dir = TemporaryDirectory()

    @Test func initThenInspectReportsTheReferenceParameterCount() throws {
        let model = dir.file("wrn.h5")
        let created = try ScionBinary.run([
            "init", "--arch", "wrn16-1", "--classes", "10", "--input", "3x32x32", "--seed", "0", "-o", model
        ])
        #expect(created.status == 0, "\(created.stderr)")
        let inspected = try ScionBinary.run(["inspect", model, "--json"])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [String: Any]
        #expect(json?["parameters"] as? Int == 175_626)
        #expect((json?["cut_points"] as? [[String: Any]])?.contains { $0["name"] as? String == "stem5" } == true)
        let text = try ScionBinary.run(["inspect", model])
        #expect(text.stdout.contains("175,626"))
    }

    @Test func runWritesTheForwardPassAsNPY() throws {
        let model = dir.file("cnn.h5")
        _ = try ScionBinary.run(["init", "--arch", "cnn-small", "--classes", "4", "--input", "1x28x28", "-o", model])
        let input = Tensor(shape: [3, 1, 28, 28], values: (0..<(3 * 784)).map { Float($0 % 255) / 255 })
        try NPY.write(input, to: dir.file("x.npy"))
        let result = try ScionBinary.run(["run", model, "--input", dir.file("x.npy"), "--output", dir.file("y.npy")])
        #expect(result.status == 0, "\(result.stderr)")
        let y = try NPY.read(dir.file("y.npy"))
        #expect(y.shape == [3, 4])
        #expect(y.floats.allSatisfy { $0.isFinite })
    }

    @Test func runRefusesAWrongInputShape() throws {
        let model = dir.file("cnn.h5")
        _ = try ScionBinary.run(["init", "--arch", "cnn-small", "--classes", "4", "--input", "1x28x28", "-o", model])
        try NPY.write(Tensor(shape: [2, 3, 28, 28], repeating: 0), to: dir.file("x.npy"))
        let result = try ScionBinary.run(["run", model, "--input", dir.file("x.npy"), "--output", dir.file("y.npy")])
        #expect(result.status != 0)
        #expect(result.stderr.contains("input 'image' must be float32[N, 1, 28, 28]"))
    }

    @Test func unknownArchitectureIsAUsageError() throws {
        let result = try ScionBinary.run([
            "init", "--arch", "vgg", "--classes", "2", "--input", "3x8x8", "-o", dir.file("m.h5")
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains("unknown architecture 'vgg'"))
    }

    /// `--precision bf16` runs where the CPU has AVX-512 BF16 and is a usage error elsewhere; an
    /// unknown precision is refused before any work.
    @Test func precisionIsCheckedAgainstTheCPU() throws {
        let model = dir.file("wrn.h5")
        _ = try ScionBinary.run(["init", "--arch", "wrn16-1", "--classes", "10", "--input", "3x32x32", "-o", model])
        let bench = ["bench", model, "--batch", "2", "--iterations", "2", "--json", "--precision"]
        let unknown = try ScionBinary.run(bench + ["fp16"])
        #expect(unknown.status == 1 && unknown.stderr.contains("--precision is fp32 or bf16, not 'fp16'"))
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        // SCION_KERNELS=avx2, generic or direct turns off what BF16 runs on (AVX-512, Winograd).
        let kernels = (ProcessInfo.processInfo.environment["SCION_KERNELS"] ?? "").lowercased()
        let hasBF16 =
            cpu.contains("avx512_bf16") && cpu.contains("avx512bw") && cpu.contains("avx512vl")
            && cpu.contains("avx512dq") && !["avx2", "generic", "direct"].contains { kernels.contains($0) }
        let bf16 = try ScionBinary.run(bench + ["bf16"])
        if hasBF16 {
            #expect(bf16.status == 0 && bf16.stdout.contains("\"precision\" : \"bf16\""), "\(bf16.stderr)")
        } else {
            #expect(bf16.status == 1 && bf16.stderr.contains("needs a CPU with AVX-512 BF16"), "\(bf16.stderr)")
        }
    }

    /// The subcommands a help text lists (two-space indent, then the name).
    func subcommands(in help: String) -> [String] {
        guard help.contains("SUBCOMMANDS:") else { return [] }
        return help.components(separatedBy: "SUBCOMMANDS:").last?.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first,
                name.first?.isLowercase == true
            else { return nil }
            return String(name)
        } ?? []
    }

    /// Every command, nested ones (`datasets list`) included, found by walking the help texts.
    @Test func everyCommandHasHelp() throws {
        var pending: [[String]] = [[]], visited: [[String]] = []
        while let command = pending.popLast() {
            let result = try ScionBinary.run(command + ["--help"])
            #expect(result.status == 0, "\(command)")
            #expect(result.stdout.contains("USAGE"), "\(command)")
            visited.append(command)
            pending += subcommands(in: result.stdout).filter { $0 != "help" }.map { command + [$0] }
        }
        #expect(visited.count >= 21, "\(visited)")
        #expect(visited.contains(["datasets", "list"]) && visited.contains(["defend"]) && visited.contains(["recover"]))
    }
}
