import Mustache

/// How the templates read a view model: through a table of key paths rather than
/// reflection. swift-mustache otherwise looks every `{{name}}` up with `Mirror`, walking all
/// stored properties each time, which made a 1,000-span trace page take a second to
/// render; a dictionary lookup and a key path take well under a microsecond.
protocol MustacheFields: MustacheParent {
    static var mustacheFields: [String: PartialKeyPath<Self>] { get }
}

extension MustacheFields {
    func child(named name: String) -> Any? {
        guard let path = Self.mustacheFields[name] else { return nil }
        let value = self[keyPath: path]
        // An absent optional must read as missing (a false section), as with reflection.
        if let optional = value as? any OptionalValue { return optional.unwrapped }
        return value
    }
}

/// Lets `child(named:)` see through an `Optional` held in an `Any`.
protocol OptionalValue {
    var unwrapped: Any? { get }
}

extension Optional: OptionalValue {
    var unwrapped: Any? { map { $0 } }
}
