import ScionCLI

Scion.main()
