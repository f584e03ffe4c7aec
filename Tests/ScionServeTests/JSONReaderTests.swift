import Foundation
import ScionServe
import Testing

/// The request parser against Foundation's JSONSerialization as the oracle.
@Suite struct JSONReaderTests {
    /// Converts Foundation's parse into a JSONNode for comparison.
    static func node(_ any: Any) -> JSONNode {
        switch any {
        case is NSNull: return .null
        case let n as NSNumber where String(cString: n.objCType) == "c": return .bool(n.boolValue)
        case let n as NSNumber: return .number(n.doubleValue)
        case let s as String: return .string(s)
        case let a as [Any]:
            let items = a.map(node)
            if items.allSatisfy({ if case .number = $0 { return true } else { return false } }) {
                return .numbers(items.map { if case .number(let v) = $0 { return v } else { return 0 } })
            }
            return .array(items)
        case let o as [String: Any]: return .object(o.mapValues(node))
        default: return .null
        }
    }

    static let valid = [
        #"{"a": [1, -2.5, 3e2, 0.125E-3, -0], "b": {"c": null, "d": [true, false]}, "e": "x\"y\\z\n\u00e9\ud83d\ude00"}"#,
        #"[[1,2],[3,4.75]]"#, #"[]"#, #"{}"#, #" "text" "#, "123456789012345678", #"[1, "a", [2]]"#,
        #"{"inputs":[{"name":"image","shape":[1,3,2,2],"datatype":"FP32","data":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1,1.1,1.2]}]}"#
    ]

    @Test(arguments: valid) func parsesLikeFoundation(_ text: String) throws {
        let want = Self.node(try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]))
        #expect(try JSONReader.parse(Data(text.utf8)) == want)
    }

    static let invalid = [
        "", "{", "[1,]", "[1 2]", "{\"a\" 1}", "{a: 1}", "01", "1.", ".5", "+1", "0x10", "inf", "NaN", "-", "1e",
        "[1]]",
        "\"unterminated", "\"bad \\q escape\"", "\"\u{01}\"", "tru", "nul", "{\"a\":1,}", "[\"\\u12\"]",
        String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
    ]

    @Test(arguments: invalid) func rejectsWhatFoundationRejects(_ text: String) {
        #expect(throws: JSONReader.SyntaxError.self) { try JSONReader.parse(Data(text.utf8)) }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text =
            String(repeating: "[", count: JSONReader.maxDepth + 1)
            + String(repeating: "]", count: JSONReader.maxDepth + 1)
        #expect { try JSONReader.parse(Data(text.utf8)) } throws: { "\($0)".contains("nested deeper") }
    }
}
