import CMicroHTTPD
import CMicroHTTPDShims

/// The C callbacks given to libmicrohttpd. Each finds its `DaemonContext` through the
/// `void *cls` pointer (`Unmanaged`, unretained: the server holds the context while the
/// daemon runs) and hands over at once. They are static members in a library module,
/// so no actor isolation applies to them.
enum DaemonCallbacks {
    /// `MHD_AccessHandlerCallback`.
    static let access: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadDataSize, requestContext in
        guard let cls, let connection, let uploadDataSize, let requestContext else { return .NO }
        return context(cls).access(
            connection: connection, url: url, method: method,
            uploadData: uploadData, uploadDataSize: uploadDataSize, requestContext: requestContext)
    }

    /// `MHD_RequestCompletedCallback` (`MHD_OPTION_NOTIFY_COMPLETED`).
    static let completed: MHD_RequestCompletedCallback = { cls, connection, requestContext, _ in
        guard let cls, let connection, let requestContext else { return }
        context(cls).completed(connection: connection, requestContext: requestContext)
    }

    /// `MHD_NotifyConnectionCallback` (`MHD_OPTION_NOTIFY_CONNECTION`).
    static let connectionNotified: MHD_NotifyConnectionCallback = { cls, connection, socketContext, code in
        guard let cls, let connection, let socketContext else { return }
        switch code {
        case .CONNECTION_NOTIFY_STARTED:
            context(cls).connectionStarted(connection, socketContext: socketContext)
        case .CONNECTION_NOTIFY_CLOSED:
            context(cls).connectionClosed(socketContext: socketContext)
        @unknown default:
            break
        }
    }

    /// `fp_mhd_log_sink`, behind the shim's `MHD_OPTION_EXTERNAL_LOGGER`.
    static let log: fp_mhd_log_sink = { cls, message in
        guard let cls, let message else { return }
        context(cls).log(fromDaemon: String(cString: message))
    }

    /// `MHD_KeyValueIteratorN`: appends each pair to the `[(name: String, value: String)]` at `cls`.
    static let collectPair: MHD_KeyValueIteratorN = { cls, _, key, keySize, value, valueSize in
        guard let cls else { return .NO }
        let pairs = cls.assumingMemoryBound(to: [(name: String, value: String)].self)
        pairs.pointee.append((name: text(key, keySize), value: text(value, valueSize)))
        return .YES
    }

    private static func context(_ cls: UnsafeMutableRawPointer) -> DaemonContext {
        Unmanaged<DaemonContext>.fromOpaque(cls).takeUnretainedValue()
    }

    /// Text from C bytes that may hold anything: invalid UTF-8 is repaired, NULL is empty.
    static func text(_ bytes: UnsafePointer<CChar>?, _ count: Int) -> String {
        guard let bytes, count > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}
