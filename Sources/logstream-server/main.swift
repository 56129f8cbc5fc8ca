import LogStream

LogStreamCommand.runFromCommandLine()
