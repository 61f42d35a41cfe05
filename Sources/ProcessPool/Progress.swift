/// How far a task says it has come.
public struct Progress: Equatable, Sendable {
    /// 0 to 100; values outside are clamped when reported.
    public var percent: Double
    /// Free text, may be empty.
    public var message: String

    public init(percent: Double, message: String = "") {
        self.percent = percent
        self.message = message
    }
}
