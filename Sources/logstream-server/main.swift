import LogStream
LogStreamCommand.main()
