import Foundation

extension ObservatoryConfiguration {
    /// A configuration that could not be used, with one message per problem.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var problems: [String]
        public var description: String { problems.joined(separator: "\n") }
    }

    /// Reads every setting of ``settingGroups`` from `environment`, group by group, checking
    /// each group's rules after its settings, and collects all problems before failing.
    /// `requiringDatabase` makes a missing database URL one of those problems (commands that
    /// talk to PostgreSQL); otherwise it may be absent.
    public static func load(
        from environment: [String: String], requiringDatabase: Bool = false
    ) throws(Invalid) -> ObservatoryConfiguration {
        var configuration = ObservatoryConfiguration()
        var problems: [String] = []
        for group in settingGroups {
            for setting in group.settings {
                problems += setting.read(from: environment, into: &configuration, requiringDatabase: requiringDatabase)
            }
            problems += group.rules.compactMap { $0.check(configuration) }
        }
        guard problems.isEmpty else { throw Invalid(problems: problems) }
        return configuration
    }
}
