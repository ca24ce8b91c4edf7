/// The API's OpenAPI 3.1 document, served at `/openapi.json`; `Sources/StrataServe/openapi.json` is this text
/// (a test checks that they agree).
public enum OpenAPIDocument {
    public static let json = "{}"
}
