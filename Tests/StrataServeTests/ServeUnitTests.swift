import Foundation
import StrataFeatures
import StrataFormat
import StrataStorage
import Hummingbird
import Testing
@testable import StrataServe

@Suite struct RequestLimits {
    @Test func nestingDepthIgnoresBracketsInStrings() {
        #expect(JSONBody.nestingDepth(Array(#"{"msno": ["a[[[[b", "c\"]]{{"]}"#.utf8)) == 2)
        #expect(JSONBody.nestingDepth(Array(#"{"a": "\\", "b": [[1]]}"#.utf8)) == 3)
        #expect(JSONBody.nestingDepth(Array("[[[[[[[[]]]]]]]]".utf8)) == 8)
        #expect(JSONBody.nestingDepth([]) == 0)
    }

    @Test func msnoInThePathIsPercentDecodedAsFoundationDoes() {
        func decoded(_ text: String) -> String? { FastRoutes.percentDecoded(text.utf8).map { String(decoding: $0, as: UTF8.self) } }
        for text in ["abc", "a%2Fb%2B%3D", "a+b", "%E2%82%AC", "100%25", "x%2f"] {
            #expect(decoded(text) == text.removingPercentEncoding, "\(text)")
        }
        // Malformed escapes and bytes that are not UTF-8 are nil, which sends the request on to the router.
        for text in ["%", "%2", "%zz", "a%g1", "%FF", "%C3"] {
            #expect(decoded(text) == nil, "\(text)")
            #expect(text.removingPercentEncoding == nil, "\(text)")
        }
        #expect(decoded("a%2Fb") == "a/b")
    }

    @Test func plainHeadsAreReadAndAnythingElseIsLeftToTheParser() {
        func parse(_ text: String) -> PlainHead.Parse { Array(text.utf8).withUnsafeBytes { PlainHead.parse($0) } }
        func head(_ text: String) -> PlainHead? { if case .head(let head) = parse(text) { return head } else { return nil } }
        func unusual(_ text: String) -> Bool { if case .unusual = parse(text) { return true } else { return false } }
        func incomplete(_ text: String) -> Bool { if case .incomplete = parse(text) { return true } else { return false } }

        let get = "GET /v1/features/abc%2B HTTP/1.1\r\nHost: x\r\n\r\n"
        let plain = head(get + "GET /next HTTP/1.1\r\n")
        #expect(plain?.method == .get && plain?.length == get.utf8.count && plain?.contentLength == 0 && plain?.keepAlive == true)
        #expect(Array(get.utf8).withUnsafeBytes { plain!.target(in: $0) } == "/v1/features/abc%2B")
        // Names in any case; the value trimmed; the first Authorization and Cookie kept.
        let post = "POST /v1/score HTTP/1.1\r\ncOnTeNt-LeNgTh:  12 \r\nAuthorization: Bearer t\r\nAuthorization: Bearer u\r\nConnection: keep-alive, close\r\n\r\n"
        let score = head(post + "{\"msno\": []}")
        #expect(score?.method == .post && score?.contentLength == 12 && score?.keepAlive == false && score?.length == post.utf8.count)
        #expect(Array(post.utf8).withUnsafeBytes { score!.authorization(in: $0) } == "Bearer t")
        // HTTP/1.0 keeps the connection only when asked.
        #expect(head("GET / HTTP/1.0\r\n\r\n")?.keepAlive == false)
        #expect(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")?.keepAlive == true)
        #expect(head("PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")?.method == .other)
        #expect(head("PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")?.expectsContinue == true)
        // Not yet whole.
        #expect(incomplete("") && incomplete("GET / HT") && incomplete("GET / HTTP/1.1\r\nHost: x\r\n") && incomplete("GET / HTTP/1.1\r\nHost: x\r\n\r"))
        // Whatever this path does not read exactly as swift-nio's parser would is left to it.
        for text in ["GET / HTTP/1.1\nHost: x\n\n",                                   // bare LF
                     "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",                  // obs-fold
                     "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",  // two lengths
                     "GET / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", "GET / HTTP/1.1\r\nContent-Length: 0x1\r\n\r\n",
                     "GET / HTTP/1.1\r\nContent-Length:\r\n\r\n", "GET / HTTP/1.1\r\nContent-Length: 1234567890123456\r\n\r\n",
                     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
                     "GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n",
                     "GET /a b HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "GET / HTTP/1.1\r\n: x\r\n\r\n",
                     "GET / HTTP/1.1\r\nX: a\u{1}b\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", "\r\nGET / HTTP/1.1\r\n\r\n"] {
            #expect(unusual(text), "\(text.debugDescription)")
        }
        // A head that never ends within 16 KiB.
        #expect(unusual("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: FastRoutes.headMax)))
        #expect(incomplete("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 1000)))
    }

    @Test func tokensCompareWithoutShortcuts() {
        let token = Array("0123456789abcdef".utf8)
        #expect(TokenMiddleware<BasicRequestContextStub>.constantTimeEqual(token, token))
        #expect(!TokenMiddleware<BasicRequestContextStub>.constantTimeEqual(token, Array(token.dropLast())))
        #expect(!TokenMiddleware<BasicRequestContextStub>.constantTimeEqual(token, token + [0]))
        #expect(!TokenMiddleware<BasicRequestContextStub>.constantTimeEqual(token, Array("0123456789abcdeF".utf8)))
        #expect(!TokenMiddleware<BasicRequestContextStub>.constantTimeEqual([], token))
        // Lengths that differ by a multiple of 256 still differ.
        #expect(!TokenMiddleware<BasicRequestContextStub>.constantTimeEqual(Array(repeating: 0, count: 256), []))
    }

    @Test func routeTableMatchesParametersAndMethods() {
        let routes = RouteTable()
        routes.add("/v1/features/:msno", "GET")
        routes.add("/v1/features", "POST")
        routes.add("/v1/score", "POST")
        #expect(routes.methods(for: "/v1/features/abc") == ["GET"])
        #expect(routes.methods(for: "/v1/features") == ["POST"])
        #expect(routes.methods(for: "/v1/features/a/b") == nil)
        #expect(routes.methods(for: "/v1/nothing") == nil)
    }
}

@Suite struct FeatureValuesFromJSON {
    @Test func valuesTakeTheirFeatureType() throws {
        #expect(try FeatureJSON.value(.string("2017-03-01"), type: .date, feature: "d") == .integer(17226))
        #expect(try FeatureJSON.value(.integer(20170301), type: .date, feature: "d") == .integer(17226))
        #expect(try FeatureJSON.value(.integer(3), type: .float64, feature: "x") == .float(3))
        #expect(try FeatureJSON.value(.double(3), type: .int64, feature: "x") == .integer(3))
        #expect(try FeatureJSON.value(.null, type: .string, feature: "g") == .null)
        #expect(try FeatureJSON.value(.bool(true), type: .bool, feature: "b") == .integer(1))
        for (value, type) in [(JSONValue.string("x"), LogicalType.int64), (.double(2.5), .int64), (.string("2017-02-30"), .date), (.integer(1), .string)] {
            #expect(throws: APIError.self) { try FeatureJSON.value(value, type: type, feature: "f") }
        }
    }

    @Test func valuesWrittenAsTheCLIPrintsThem() {
        var out: [UInt8] = []
        FeatureJSON.appendObject(names: ["d", "x", "s", "n", "f"], types: [.date, .int64, .string, .float64, .float64],
                                 values: [.integer(17226), .integer(-4), .string("a\"b\n"), .null, .float(.nan)], columns: [0, 1, 2, 3, 4], to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"{"d":"2017-03-01","x":-4,"s":"a\"b\n","n":null,"f":null}"#)
    }
}


/// A request context type for the generic middleware's static helpers.
typealias BasicRequestContextStub = Hummingbird.BasicRequestContext
