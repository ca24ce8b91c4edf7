import Foundation
import Hummingbird
import NIOCore
import StrataFeatures
import StrataFormat
import StrataStorage
import StrataTrain

/// The JSON API: every handler takes one snapshot at its start and answers from it alone, so a hot swap
/// never mixes two versions in one answer.
struct ServeAPI: Sendable {
    let state: ServingState
    let options: ServeOptions
    let logQueue: ServingLogQueue
    let compute: ComputeLimiter
    let log: @Sendable (String) -> Void

    // MARK: Features

    func feature(_ request: Request, context: BasicRequestContext) async throws -> Response {
        // msno are base64: a "/" in one arrives percent-encoded (%2F) so that it stays one path segment.
        guard let raw = context.parameters.get("msno"), let msno = raw.removingPercentEncoding, !msno.isEmpty else {
            throw APIError.badRequest("the path needs an msno, percent-encoded: /v1/features/{msno}")
        }
        let query = request.uri.queryParameters
        for (key, _) in query where key != "view" && key != "as_of" {
            throw APIError.badRequest("unknown query parameter '\(String(key).prefix(64))' (this route takes view and as_of)")
        }
        let snapshot = state.snapshot
        let (name, day) = try resolve(view: query["view"].map(String.init), asOf: query["as_of"].map(String.init), snapshot: snapshot)
        if let body = try onlineVector(msno: msno, view: name, day: day, snapshot: snapshot) { return .json(body) }
        let answer = try await vectors(msno: [msno], view: name, asOf: query["as_of"].map(String.init))
        guard let row = answer.rows.first else {
            throw APIError.notFound("msno \(msno.prefix(64)) is not in the store" + answer.unknownNote)
        }
        var body: [UInt8] = []
        answer.appendHeader(to: &body)
        body += Array(",\"msno\":".utf8)
        JSONText.appendString(row.msno, to: &body)
        body += Array(",\"features\":".utf8)
        FeatureJSON.appendObject(names: answer.names, types: answer.types, values: row.values, columns: Array(answer.names.indices), to: &body)
        body.append(UInt8(ascii: "}"))
        return .json(body)
    }

    private static let featuresKey = Array(",\"features\":".utf8)

    /// The answer of `GET /v1/features/{msno}` from the online table of `view`, straight from the mapped row
    /// to the response bytes; nil when that table does not answer for `day` (the vector must be computed).
    /// Shared by the route and by `FastRoutes`, which calls it on the event loop.
    func onlineVector(msno: String, view name: String, day: Int?, snapshot: ServingSnapshot) throws -> [UInt8]? {
        var msno = msno
        return try msno.withUTF8 { try onlineVector(msno: UnsafeRawBufferPointer($0), view: name, day: day, snapshot: snapshot) }
    }

    /// The same for the msno's UTF-8 bytes (the features route's fast path makes no String of them).
    func onlineVector(msno: UnsafeRawBufferPointer, view name: String, day: Int?, snapshot: ServingSnapshot) throws -> [UInt8]? {
        guard let table = snapshot.online[name], let layout = snapshot.onlineLayouts[name], day == nil || day == table.asOfDay else { return nil }
        guard let vector = table.lookup(msno) else {
            let text = String(decoding: msno, as: UTF8.self)
            throw APIError.notFound("msno \(text.prefix(64)) is not in the store (or came after the online table of \(name) was materialised)")
        }
        var body: [UInt8] = []
        body.reserveCapacity(1024)
        body += layout.opening
        JSONText.appendString(utf8: msno, to: &body)
        body += Self.featuresKey
        FeatureJSON.appendObject(vector, layout: layout, to: &body)
        body.append(UInt8(ascii: "}"))
        return body
    }

    /// The view a request without `?view=` means: the production model's, else the only one registered.
    func defaultView(_ snapshot: ServingSnapshot) -> String? {
        snapshot.scorer?.lineage?.featureView ?? (snapshot.viewNames.count == 1 ? snapshot.viewNames[0] : nil)
    }

    func features(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let object = try await JSONBody.object(request, allowed: ["msno", "view", "as_of"])
        let msno = try JSONBody.msnoList(object["msno"], required: true)
        let answer = try await vectors(msno: msno, view: try JSONBody.string(object["view"], field: "view"),
                                       asOf: try JSONBody.string(object["as_of"], field: "as_of"))
        var body: [UInt8] = []
        answer.appendHeader(to: &body)
        body += Array(",\"vectors\":[".utf8)
        for (index, row) in answer.rows.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += Array("{\"msno\":".utf8)
            JSONText.appendString(row.msno, to: &body)
            body += Array(",\"features\":".utf8)
            FeatureJSON.appendObject(names: answer.names, types: answer.types, values: row.values, columns: Array(answer.names.indices), to: &body)
            body.append(UInt8(ascii: "}"))
        }
        body += Array("],\"unknown\":".utf8)
        JSONBody.appendStrings(answer.unknown, to: &body)
        body.append(UInt8(ascii: "}"))
        return .json(body)
    }

    /// Vectors from the snapshot's online table when it answers for that day, else computed as of the day.
    /// The view asked for (default: the model's, else the only one) and the day, checked.
    private func resolve(view: String?, asOf: String?, snapshot: ServingSnapshot) throws -> (name: String, day: Int?) {
        if let view { try checkName(view, what: "view") }
        let day = try asOf.map { text -> Int in
            guard let day = Dates.parse(text) else { throw APIError.badRequest("as_of must be a date as YYYYMMDD or YYYY-MM-DD, got '\(text.prefix(32))'") }
            return day
        }
        let views = snapshot.viewNames
        let name = view ?? defaultView(snapshot)
        guard let name else {
            throw APIError.badRequest(views.isEmpty ? "no feature view is registered in the store" : "name the feature view: ?view= one of \(views.joined(separator: ", "))")
        }
        guard views.contains(name) else {
            throw APIError.notFound("no feature view '\(name)' (registered: \(views.isEmpty ? "none" : views.joined(separator: ", ")))")
        }
        return (name, day)
    }

    private func vectors(msno: [String], view: String?, asOf: String?) async throws -> VectorAnswer {
        let snapshot = state.snapshot
        let (name, day) = try resolve(view: view, asOf: asOf, snapshot: snapshot)
        if let table = snapshot.online[name], day == nil || day == table.asOfDay {
            var answer = VectorAnswer(view: name, viewVersion: table.entry.featureViewVersion, asOfDay: table.asOfDay, source: "online",
                                      names: table.schemas.map(\.name), types: table.schemas.map(\.type), rows: [], unknown: [])
            for key in msno {
                if let vector = table.lookup(key) { answer.rows.append((key, vector.values)) } else { answer.unknown.append(key) }
            }
            return answer
        }
        guard let day else {
            throw APIError.notFound("feature view \(name) has no online table: pass as_of=YYYYMMDD, or run strata features materialize")
        }
        let store = snapshot.store
        let found = try await compute.run { try FeatureVectors.lookup(store: store, view: name, msno: msno, asOfDay: day) }
        return VectorAnswer(view: found.view, viewVersion: found.viewVersion, asOfDay: day, source: "computed", names: found.names, types: found.types,
                            rows: found.rows, unknown: found.unknown)
    }

    // MARK: Scores

    func score(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let object = try await JSONBody.object(request, allowed: Self.scoreFields)
        var job = try scoreJob(object)
        if let pending = job.asOf {
            // Vectors as of another day: a point-in-time computation, off the request threads.
            let found = try await compute.run {
                try FeatureVectors.lookup(store: pending.store, view: pending.view, version: pending.viewVersion, msno: pending.msno, asOfDay: pending.day)
            }
            (job.names, job.types, job.keys, job.vectors, job.unknown) = (found.names, found.types, found.rows.map(\.msno), found.rows.map(\.values), found.unknown)
            job.columns = try job.scorer.binding(to: job.names)
            job.asOf = nil
            if job.vectors.isEmpty {
                throw APIError.notFound("no msno given is in the store: \(job.unknown.prefix(5).joined(separator: ", "))\(job.unknown.count > 5 ? ", …" : "")")
            }
        }
        let scored = job.vectors.count <= Self.inlineVectorsMax ? scoreVectors(job) : try await compute.run { [job] in self.scoreVectors(job) }
        return .json(scoreBody(job, scored: scored))
    }

    static let scoreFields: Set<String> = ["msno", "vectors", "as_of", "explain"]
    /// Requests scoring at most this many vectors are answered on the thread that read them; larger ones
    /// run off the request threads.
    static let inlineVectorsMax = 16

    /// The answer of `POST /v1/score` for a whole body, computed where it is asked (`FastRoutes` calls it on
    /// the event loop), or nil when the request needs work off the request threads: vectors as of another
    /// day, or more than `inlineVectorsMax` of them. Throws what the route answers.
    func scoreInline(body: [UInt8]) throws -> [UInt8]? {
        let job = try scoreJob(try JSONBody.parse(body, allowed: Self.scoreFields))
        guard job.asOf == nil, job.vectors.count <= Self.inlineVectorsMax else { return nil }
        return scoreBody(job, scored: scoreVectors(job))
    }

    /// A score request checked against one snapshot: the vectors to score, or the lookup as of a day that
    /// must still run.
    struct ScoreJob: @unchecked Sendable {
        struct AsOf { var store: Store; var view: String; var viewVersion: Int; var msno: [String]; var day: Int }
        var scorer: ModelScorer
        var explain: Bool
        var byMsno: Bool
        var names: [String] = []
        var types: [LogicalType] = []
        var keys: [String?] = []
        var vectors: [[FeatureValue]] = []
        var unknown: [String] = []
        var columns: [Int] = []
        var asOf: AsOf?
    }

    private func scoreJob(_ object: [String: JSONValue]) throws -> ScoreJob {
        let explain = try JSONBody.bool(object["explain"], field: "explain") ?? true
        let snapshot = state.snapshot
        guard let scorer = snapshot.scorer else { throw APIError.notReady(snapshot.modelProblem ?? "no production model is loaded") }
        var job = ScoreJob(scorer: scorer, explain: explain, byMsno: object["msno"] != nil)
        switch (object["msno"], object["vectors"]) {
        case (.some, .some), (nil, nil):
            throw APIError.badRequest("give either \"msno\": [ids] or \"vectors\": [{feature: value}], not both or neither")
        case (let list?, nil):
            let msno = try JSONBody.msnoList(list, required: true)
            if let asOf = try JSONBody.string(object["as_of"], field: "as_of") {
                guard let day = Dates.parse(asOf) else { throw APIError.badRequest("as_of must be a date as YYYYMMDD or YYYY-MM-DD") }
                guard let lineage = scorer.lineage else { throw APIError.notReady(snapshot.scoreProblem ?? "the model has no feature view") }
                job.asOf = ScoreJob.AsOf(store: snapshot.store, view: lineage.featureView, viewVersion: lineage.featureViewVersion, msno: msno, day: day)
                return job
            }
            guard let table = snapshot.scoringTable, let binding = snapshot.binding else {
                throw APIError.notReady(snapshot.scoreProblem ?? "no online table for the model's feature view")
            }
            (job.names, job.types) = (table.schemas.map(\.name), table.schemas.map(\.type))
            for key in msno {
                if let vector = table.lookup(key) {
                    job.keys.append(key)
                    job.vectors.append(vector.values)
                } else {
                    job.unknown.append(key)
                }
            }
            job.columns = binding
            if job.vectors.isEmpty {
                throw APIError.notFound("no msno given is in the online table: \(job.unknown.prefix(5).joined(separator: ", "))\(job.unknown.count > 5 ? ", …" : "")")
            }
        case (nil, let given?):
            guard try JSONBody.string(object["as_of"], field: "as_of") == nil else { throw APIError.badRequest("as_of applies to msno, not to given vectors") }
            (job.names, job.columns) = (scorer.featureNames, Array(scorer.featureNames.indices))
            (job.keys, job.vectors) = try whatIf(given, scorer: scorer, snapshot: snapshot, types: &job.types)
        }
        return job
    }

    private struct Scored { var probability: Double; var bucket: String; var reasons: [Reason] }

    /// Probabilities, buckets and reasons of a job's vectors.
    private func scoreVectors(_ job: ScoreJob) -> [Scored] {
        let scorer = job.scorer
        let dataset = scorer.dataset(vectors: job.vectors, columns: job.columns)
        let probabilities = scorer.probabilities(dataset)
        let reasons = job.explain ? scorer.reasons(dataset, rows: Array(0..<dataset.rowCount)) : Array(repeating: [], count: dataset.rowCount)
        return probabilities.indices.map { Scored(probability: probabilities[$0], bucket: options.thresholds.bucket(probabilities[$0]), reasons: reasons[$0]) }
    }

    /// The response bytes; a sample of the users scored by msno goes to the serving log.
    private func scoreBody(_ job: ScoreJob, scored: [Scored]) -> [UInt8] {
        var body: [UInt8] = Array("{\"model\":".utf8)
        JSONText.appendString(job.scorer.reference, to: &body)
        body += Array(",\"results\":[".utf8)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for (index, result) in scored.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(UInt8(ascii: "{"))
            if let key = job.keys.indices.contains(index) ? job.keys[index] : nil {
                body += Array("\"msno\":".utf8)
                JSONText.appendString(key, to: &body)
                body.append(UInt8(ascii: ","))
            }
            body += Array("\"churn_probability\":".utf8)
            JSONText.appendNumber(result.probability, to: &body)
            body += Array(",\"bucket\":\"\(result.bucket)\",\"reasons\":".utf8)
            Self.appendReasons(result.reasons, explained: job.explain, to: &body)
            body.append(UInt8(ascii: "}"))
            if job.byMsno, let key = job.keys[index], options.logSample > 0, Double.random(in: 0..<1) < options.logSample {
                var features: [UInt8] = []
                FeatureJSON.appendObject(names: job.names, types: job.types, values: job.vectors[index], columns: job.columns, to: &features)
                logQueue.offer(ServingLogRecord(timeMs: now, msno: key, model: job.scorer.reference, probability: result.probability,
                                                bucket: result.bucket, features: String(decoding: features, as: UTF8.self)))
            }
        }
        body += Array("],\"unknown\":".utf8)
        JSONBody.appendStrings(job.unknown, to: &body)
        body.append(UInt8(ascii: "}"))
        return body
    }

    /// What-if vectors: every feature the model takes, by name, with a value of its type or null.
    private func whatIf(_ given: JSONValue, scorer: ModelScorer, snapshot: ServingSnapshot, types: inout [LogicalType]) throws -> ([String?], [[FeatureValue]]) {
        guard case .array(let items) = given, !items.isEmpty else { throw APIError.badRequest("\"vectors\" must be a non-empty array of objects") }
        guard items.count <= ServeLimits.usersPerRequestMax else {
            throw APIError.tooLarge("at most \(ServeLimits.usersPerRequestMax) vectors per request, got \(items.count)")
        }
        // The feature types of the model's view; without one, numbers (and strings for categories).
        var typeOf: [String: LogicalType] = [:]
        if let table = snapshot.scoringTable { for schema in table.schemas { typeOf[schema.name] = schema.type } }
        types = scorer.featureNames.enumerated().map { index, name in typeOf[name] ?? (scorer.categoryNames[index].isEmpty ? .float64 : .string) }
        let allowed = Set(scorer.featureNames + ["msno"])
        var keys: [String?] = []
        var vectors: [[FeatureValue]] = []
        for (position, item) in items.enumerated() {
            guard case .object(let fields) = item else { throw APIError.badRequest("vectors[\(position)] must be an object of feature: value") }
            if let extra = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
                throw APIError.badRequest("vectors[\(position)]: model \(scorer.reference) has no feature '\(extra.prefix(64))' (features: \(scorer.featureNames.joined(separator: ", ")))")
            }
            let missing = scorer.featureNames.filter { fields[$0] == nil }
            guard missing.isEmpty else {
                throw APIError.badRequest("vectors[\(position)] lacks \(missing.joined(separator: ", ")) (give null for a missing value)")
            }
            keys.append(try JSONBody.string(fields["msno"], field: "vectors[\(position)].msno"))
            vectors.append(try scorer.featureNames.enumerated().map { index, name in try FeatureJSON.value(fields[name]!, type: types[index], feature: name) })
        }
        return (keys, vectors)
    }

    static func appendReasons(_ reasons: [Reason], explained: Bool, to body: inout [UInt8]) {
        guard explained else { body += JSONText.nullBytes; return }
        body.append(UInt8(ascii: "["))
        for (index, reason) in reasons.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += Array("{\"feature\":".utf8)
            JSONText.appendString(reason.feature, to: &body)
            body += Array(",\"value\":".utf8)
            if let value = reason.value { JSONText.appendString(value, to: &body) } else { body += JSONText.nullBytes }
            body += Array(",\"contribution\":".utf8)
            JSONText.appendNumber(reason.contribution, to: &body)
            body.append(UInt8(ascii: "}"))
        }
        body.append(UInt8(ascii: "]"))
    }

    // MARK: Catalogue, health

    func models(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let snapshot = state.snapshot
        struct Answer: Encodable { var storeVersion: Int; var serving: String?; var models: [ModelListing] }
        return try .encoded(Answer(storeVersion: snapshot.store.version, serving: snapshot.scorer?.reference, models: try ModelRegistry.listing(store: snapshot.store)))
    }

    func runs(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let snapshot = state.snapshot
        struct Answer: Encodable { var storeVersion: Int; var runs: [RunListing] }
        return try .encoded(Answer(storeVersion: snapshot.store.version, runs: try TrainingRunner.listing(store: snapshot.store)))
    }

    func tables(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let snapshot = state.snapshot
        struct Answer: Encodable { var storeVersion: Int; var entities: Int; var tables: [TableListing] }
        return try .encoded(Answer(storeVersion: snapshot.store.version, entities: snapshot.store.manifest.entities.count, tables: try snapshot.store.tableListing()))
    }

    func ready(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let snapshot = state.snapshot
        guard snapshot.isReady, let scorer = snapshot.scorer, let table = snapshot.scoringTable else {
            throw APIError.notReady(snapshot.scoreProblem ?? snapshot.modelProblem ?? "not ready")
        }
        struct Answer: Encodable { var status: String; var storeVersion: Int; var model: String; var view: String; var viewVersion: Int; var asOf: String }
        return try .encoded(Answer(status: "ready", storeVersion: snapshot.store.version, model: scorer.reference, view: scorer.lineage?.featureView ?? "",
                                   viewVersion: table.entry.featureViewVersion, asOf: ValueText.date(Int64(table.asOfDay), style: .iso)))
    }

    /// `POST /v1/admin/promote` `{"model": NAME, "version": N, "stage": STAGE}` (with `--allow-admin` only).
    func promote(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let object = try await JSONBody.object(request, allowed: ["model", "version", "stage"])
        guard let name = try JSONBody.string(object["model"], field: "model") else { throw APIError.badRequest("\"model\" (a model name) is required") }
        try checkName(name, what: "model")
        guard case .integer(let version)? = object["version"], version > 0, version < Int64(Int32.max) else {
            throw APIError.badRequest("\"version\" must be a positive integer")
        }
        guard let stage = try JSONBody.string(object["stage"], field: "stage"), ModelStages.all.contains(stage) else {
            throw APIError.badRequest("\"stage\" must be one of \(ModelStages.all.joined(separator: ", "))")
        }
        let catalog = (try? state.snapshot.store.manifest.section(ModelCatalog.self).models) ?? [:]
        guard let known = catalog[name] else { throw APIError.notFound("no model named \(name) (models: \(catalog.keys.sorted().joined(separator: ", ")))") }
        guard known.contains(where: { $0.version == Int(version) }) else { throw APIError.notFound("model \(name) has no version \(version)") }
        let path = state.path
        let versions: [ModelVersionEntry]
        do {
            versions = try await compute.run { try ModelRegistry.promote(storePath: path, name: name, version: Int(version), stage: stage) }
        } catch let error as TrainError {
            throw APIError.badRequest(error.message)
        }
        log("admin: \(name)@\(version) moved to \(stage)")
        state.refresh(log: log)
        struct Answer: Encodable { var model: String; var versions: [ModelVersionEntry] }
        return try .encoded(Answer(model: name, versions: versions))
    }

    private func checkName(_ name: String, what: String) throws {
        do { try StoreNames.validate(name, what: what) } catch let error as StorageError { throw APIError.badRequest(error.description) }
    }
}

/// Feature vectors found for a request, and where they came from.
struct VectorAnswer {
    var view: String
    var viewVersion: Int
    var asOfDay: Int
    var source: String
    var names: [String]
    var types: [LogicalType]
    var rows: [(msno: String, values: [FeatureValue])]
    var unknown: [String]

    var unknownNote: String { source == "online" ? " (or came after the online table of \(view) was materialised)" : "" }

    func appendHeader(to body: inout [UInt8]) {
        body += Array("{\"view\":".utf8)
        JSONText.appendString(view, to: &body)
        body += Array(",\"view_version\":\(viewVersion),\"as_of\":\"\(ValueText.date(Int64(asOfDay), style: .iso))\",\"source\":\"\(source)\"".utf8)
    }
}
