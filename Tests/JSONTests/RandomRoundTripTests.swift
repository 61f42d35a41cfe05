import Foundation
import Testing
@testable import JSON

@Suite("Seeded random values survive write -> parse")
struct RandomRoundTripTests {
    @Test(arguments: [UInt64(1), 2, 3, 4])
    func twoThousandValuesRoundTrip(seed: UInt64) throws {
        var generator = RandomJSON(seed: seed)
        for index in 0..<500 {
            let value = generator.value()
            let bytes = JSONWriter.encode(value)
            let back: JSONValue
            do {
                back = try JSONParser.parse(bytes)
            } catch {
                Issue.record("seed \(seed) value \(index): \(error) in \(String(decoding: bytes, as: UTF8.self))")
                continue
            }
            #expect(back == value, "seed \(seed) value \(index)")
            #expect(JSONWriter.encode(back) == bytes, "seed \(seed) value \(index)")
            #expect(canonicalJSON(back) == canonicalJSON(value))
            // An independent parser agrees that the output is JSON.
            #expect(throws: Never.self) {
                try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)
            }
        }
    }

    @Test func rawRangesRoundTripForRandomObjects() throws {
        var generator = RandomJSON(seed: 99)
        for _ in 0..<300 {
            guard case let .object(object) = generator.value() else { continue }
            // Pad with whitespace so the ranges must exclude it.
            var bytes = Array("{ ".utf8)
            for (position, member) in object.enumerated() {
                if position > 0 { bytes += Array(" ,\n".utf8) }
                JSONWriter.writeString(member.key, into: &bytes)
                bytes += Array(" :\t".utf8)
                JSONWriter.write(member.value, into: &bytes)
            }
            bytes += Array(" }".utf8)
            let members = try JSONParser.parseObjectWithRawValues(bytes)
            #expect(members.map(\.key) == object.keys)
            for (member, original) in zip(members, object) {
                #expect(member.value == original.value)
                #expect(Array(bytes[member.raw]) == JSONWriter.encode(original.value))
            }
        }
    }
}
