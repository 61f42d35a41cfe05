/// Where an `HTTPServer` listens and the limits it enforces.
public struct HTTPServerConfiguration: Sendable {
    /// An inherited listening socket, which the server then owns and closes; nil = bind `host`:`port`.
    public var listenDescriptor: Int32?
    /// The address to bind when `listenDescriptor` is nil: a numeric address or a host name.
    public var host: String = "127.0.0.1"
    /// The port to bind when `listenDescriptor` is nil; 0 picks a free port (see `HTTPServer.port`).
    public var port: Int = 0
    /// listen(2) backlog for a socket the server binds itself.
    public var listenBacklog: Int32 = 511
    /// Larger bodies (declared or arriving) are answered with `HTTPHandler.bodyTooLarge`.
    public var maximumBodyBytes: Int = 1 << 20
    /// `MHD_OPTION_CONNECTION_TIMEOUT`: an idle connection is closed after this many seconds; 0 = never.
    /// A suspended connection does not time out: its deadline bounds it.
    public var connectionTimeoutSeconds: Int = 30
    /// A connection must deliver a complete request head (request line and headers) within this
    /// many seconds of being accepted and, on a keep-alive connection, of its previous request
    /// completing; otherwise it is shut down. 0 = no such deadline.
    ///
    /// Unlike `connectionTimeoutSeconds`, this bounds clients that keep a connection busy by
    /// trickling header bytes (slowloris). A request past its head is not bound by it: not
    /// while its body arrives (the idle timeout and `maximumBodyBytes` bound that), nor while
    /// it is suspended or answered. The service sets it from its connection timeout.
    public var requestHeadTimeoutSeconds: Int = 30
    /// `MHD_OPTION_CONNECTION_LIMIT`: connections open at once, suspended ones included.
    public var connectionLimit: Int = 1024
    /// `MHD_OPTION_PER_IP_CONNECTION_LIMIT`; 0 = none.
    public var perIPConnectionLimit: Int = 0
    /// `MHD_OPTION_CONNECTION_MEMORY_LIMIT`: each connection's buffer for the request head
    /// and I/O, so also the largest request head (more is answered 431). libmicrohttpd 0.9.75
    /// zeroes the whole buffer between requests on a kept-alive connection, so every KiB
    /// costs every request: at 32 KiB (its default) that memset was 6% of a poll's CPU.
    /// 16 KiB is still twice the longest header line nginx and Apache take by default (8 KiB).
    public var connectionMemoryLimit: Int = 16 * 1024
    /// Added to every answer (e.g. `X-Forkpool-Frontend: <pid>`).
    public var defaultHeaders: [(name: String, value: String)] = []

    public init() {}
}
