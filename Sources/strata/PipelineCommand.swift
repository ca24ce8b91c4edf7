import ArgumentParser
import Foundation
import StrataFormat
import StrataPipeline
import StrataStorage

struct PipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "The continuous-training loop: ingest the inbox, verify, materialise, monitor, retrain or search, gate, stage, check, promote, predict, report, alert.",
        discussion: """
            Steps, in order: \(PipelineStep.allCases.map(\.rawValue).joined(separator: ", ")). Each is recorded in the store \
            (section pipeline) with its inputs, outputs, status and duration. A run is one as-of day: running it again \
            resumes at the first step not done (after a failure or a kill) and does nothing once it succeeded. The config \
            (YAML) is described in Sources/StrataPipeline/README.md.
            """,
        subcommands: [Run.self, StepCommand.self, Status.self, History.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run (or resume) the pipeline for an as-of day.")
        @OptionGroup var store: StoreOption
        @Option(help: "The pipeline config (YAML).") var config: String
        @Option(name: .customLong("as-of"), help: "The run's day (YYYYMMDD or YYYY-MM-DD; default today, UTC).") var asOf: String?

        func validate() throws { if let asOf { _ = try dayNumber(asOf, flag: "--as-of") } }

        func run() throws {
            let pipeline = try makePipeline(store: store.path, config: config, asOf: asOf)
            let result = try pipeline.run()
            printRun(result)
        }
    }

    struct StepCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "step", abstract: "Run one step of the run for an as-of day (the steps before it must be done): what Airflow's tasks call.")
        @OptionGroup var store: StoreOption
        @Argument(help: "The step: \(PipelineStep.allCases.map(\.rawValue).joined(separator: ", ")).") var name: String
        @Option(help: "The pipeline config (YAML).") var config: String
        @Option(name: .customLong("as-of"), help: "The run's day (YYYYMMDD or YYYY-MM-DD).") var asOf: String

        func validate() throws {
            _ = try dayNumber(asOf, flag: "--as-of")
            guard PipelineStep(rawValue: name) != nil else {
                throw ValidationError("no pipeline step '\(name)' (steps: \(PipelineStep.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }

        func run() throws {
            let pipeline = try makePipeline(store: store.path, config: config, asOf: asOf)
            let step = try PipelineStep.named(name)
            let result = try pipeline.runStep(step)
            let record = result.step(step)
            print("\(result.id) as of \(result.asOf): \(step.rawValue) \(record.status.rawValue)"
                + (record.outputs.isEmpty ? "" : " — " + record.outputs.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")))
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A run and its steps (the latest, or the run of --as-of).")
        @OptionGroup var store: StoreOption
        @Option(name: .customLong("as-of"), help: "The run's day (default: the latest run).") var asOf: String?
        @Option(help: "Output: table or json.") var format: OutputFormat = .table

        func validate() throws {
            if let asOf { _ = try dayNumber(asOf, flag: "--as-of") }
            guard format != .csv else { throw ValidationError("--format must be table or json") }
        }

        func run() throws {
            let runs = try StrataPipeline.Pipeline.history(storePath: store.path)
            let day = try asOf.map { ValueText.date(try dayNumber($0, flag: "--as-of"), style: .iso) }
            guard let run = day.map({ day in runs.first { $0.asOf == day } }) ?? runs.last else {
                throw PipelineError(day.map { "no pipeline run as of \($0) (runs: \(runs.isEmpty ? "none" : runs.suffix(8).map(\.asOf).joined(separator: ", ")))" }
                    ?? "no pipeline run is recorded in \(store.path): strata pipeline run --config FILE starts one")
            }
            if format == .json {
                print(try pipelineJSON(run))
                return
            }
            printRun(run)
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every pipeline run: day, status, decision, the production model after it.")
        @OptionGroup var store: StoreOption
        @Option(help: "Output: table, csv or json.") var format: OutputFormat = .table

        func run() throws {
            let runs = try StrataPipeline.Pipeline.history(storePath: store.path)
            if format == .json {
                print("[" + (try runs.map(pipelineJSON).joined(separator: ",")) + "]")
                return
            }
            RowPrinter.print(header: ["run", "as_of", "status", "decision", "challenger", "gates", "production", "seconds", "alerts"], rows: runs.map { run in
                let seconds = run.steps.compactMap(\.seconds).reduce(0, +)
                return [run.id, run.asOf, run.status.rawValue, run.decision ?? "", run.outputs(.train)["challenger"] ?? "", run.outputs(.evaluate)["gates"] ?? "",
                        run.outputs(.promote)["production"] ?? run.step(.predict).productionModel ?? run.outputs(.predict)["model"] ?? "",
                        String(format: "%.1f", seconds), String(run.alerts.count)]
            }, format: format)
        }
    }
}

func makePipeline(store: String, config path: String, asOf: String?) throws -> StrataPipeline.Pipeline {
    let config = try PipelineConfig.load(path)
    let day = try asOf.map { try dayNumber($0, flag: "--as-of") } ?? Int64(Date().timeIntervalSince1970 / 86_400)
    let started = Date()
    return try StrataPipeline.Pipeline(storePath: store, config: config, asOfDay: day) { message in
        printError(String(format: "  %6.2f s  %@", -started.timeIntervalSinceNow, message))
    }
}

func pipelineJSON(_ run: PipelineRun) throws -> String {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(run), as: UTF8.self)
}

func printRun(_ run: PipelineRun) {
    print("\(run.id) as of \(run.asOf): \(run.status.rawValue)" + (run.decision.map { ", decision \($0)" } ?? ""))
    if let reason = run.reason { print("  why: \(reason)") }
    RowPrinter.print(header: ["step", "status", "seconds", "attempts", "outputs"], rows: run.steps.map { step in
        [step.name.rawValue, step.status.rawValue, step.seconds.map { String(format: "%.2f", $0) } ?? "", String(step.attempts),
         step.error ?? step.outputs.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")]
    }, format: .table)
    for alert in run.alerts { print("  alert: \(alert)") }
}
