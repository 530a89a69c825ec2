import Foundation
import ResidencyCLI

exit(ResidencyCommand.main(Array(CommandLine.arguments.dropFirst())))
