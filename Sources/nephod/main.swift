import NephodProgram

await NephodProgram.main(providers: .standard)
