print("scion")
