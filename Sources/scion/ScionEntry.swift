import ScionCLI

/// The `scion` executable: every command lives in ScionCLI.
@main
enum ScionEntry {
    static func main() async {
        await Scion.main()
    }
}
