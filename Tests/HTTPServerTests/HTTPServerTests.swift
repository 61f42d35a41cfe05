import Testing

/// All HTTPServer suites run one after another: the lifecycle test compares this process's
/// descriptors and threads around a server's life.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct HTTPServerTests {}
