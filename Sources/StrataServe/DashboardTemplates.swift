/// The dashboard's mustache templates (kept in the binary: `strata` is one file to install).
enum DashboardTemplates {
    static let all: [(String, String)] = [("header", header), ("footer", footer), ("overview", overview), ("runs", runs), ("scoring", scoring), ("reports", reports), ("drift", drift)]

    static let header = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Strata — {{store_path}}</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="icon" href="data:,">
        <style>
        body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #f6f7f9; }
        header { background: #1f3a5f; color: #fff; padding: 10px 24px; display: flex; gap: 24px; align-items: baseline; }
        header a { color: #cfe0f5; text-decoration: none; } header a.on { color: #fff; font-weight: bold; }
        main { padding: 16px 24px; display: grid; grid-template-columns: repeat(auto-fit, minmax(600px, 1fr)); gap: 16px; }
        section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 12px 16px; }
        h1 { font-size: 18px; margin: 0; } h2 { font-size: 15px; margin: 4px 0 10px; }
        table { border-collapse: collapse; font-size: 13px; width: 100%; }
        th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eee; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
        .status { font-size: 13px; } .bad { color: #b00020; } .good { color: #2e7d32; } .muted { color: #777; font-size: 12px; }
        </style></head><body>
        <header><h1>Strata</h1>
        <a href="/" {{#nav_overview}}class="on"{{/nav_overview}}>Store &amp; serving</a>
        <a href="/runs" {{#nav_runs}}class="on"{{/nav_runs}}>Runs</a>
        <a href="/scoring" {{#nav_scoring}}class="on"{{/nav_scoring}}>Latest scoring</a>
        <a href="/reports" {{#nav_reports}}class="on"{{/nav_reports}}>Weekly reports</a>
        <a href="/drift" {{#nav_drift}}class="on"{{/nav_drift}}>Drift and pipeline</a>
        <span class="status">store version {{store_version}} · serving {{serving}}
        {{#ready}}<span class="good">ready</span>{{/ready}}{{^ready}}<span class="bad">not ready: {{problem}}</span>{{/ready}}</span>
        </header><main>
        """

    static let footer = """
        </main></body></html>
        """

    static let overview = """
        {{> header}}
        <section id="store"><h2>Store — {{entities}} entities (msno)</h2>
        {{{chart_tables}}}
        <table><tr><th>table</th><th class="n">rows</th><th class="n">partitions</th><th>months</th><th class="n">segments</th><th class="n">size</th><th>kind</th></tr>
        {{#tables}}<tr><td>{{name}}</td><td class="n">{{rows}}</td><td class="n">{{partitions}}</td><td>{{span}}</td><td class="n">{{segments}}</td><td class="n">{{bytes}}</td><td>{{kind}}</td></tr>{{/tables}}
        </table></section>
        <section id="history"><h2>Size over time</h2>{{{chart_history}}}</section>
        <section id="registry"><h2>Model registry</h2>
        <table><tr><th>model</th><th class="n">version</th><th>stage</th><th>run</th><th class="n">test AUC</th><th>updated</th></tr>
        {{#models}}<tr><td>{{name}}</td><td class="n">{{version}}</td><td>{{#production}}<b>{{stage}}</b>{{/production}}{{^production}}{{stage}}{{/production}}</td><td>{{run}}</td><td class="n">{{auc}}</td><td>{{updated}}</td></tr>{{/models}}
        {{^models}}<tr><td colspan="6" class="muted">no model registered: strata train --register NAME</td></tr>{{/models}}
        </table>
        <h2>Online tables</h2>
        <table><tr><th>view</th><th class="n">version</th><th>as of</th><th class="n">vectors</th><th class="n">size</th></tr>
        {{#online}}<tr><td>{{view}}</td><td class="n">{{version}}</td><td>{{as_of}}</td><td class="n">{{vectors}}</td><td class="n">{{bytes}}</td></tr>{{/online}}
        {{^online}}<tr><td colspan="5" class="muted">none: strata features materialize</td></tr>{{/online}}
        </table></section>
        <section id="serving"><h2>Serving</h2>
        {{{chart_latency}}}
        <table><tr><th>route</th><th class="n">requests</th><th class="n">errors</th><th class="n">p50 ms</th><th class="n">p99 ms</th></tr>
        {{#routes}}<tr><td>{{route}}</td><td class="n">{{requests}}</td><td class="n">{{errors}}</td><td class="n">{{p50}}</td><td class="n">{{p99}}</td></tr>{{/routes}}
        </table>
        <p class="muted">serving log: {{log_committed}} committed, {{log_depth}} waiting, {{log_dropped}} dropped · Prometheus metrics at <a href="/metrics">/metrics</a> · API at <a href="/openapi.json">/openapi.json</a></p>
        </section>
        {{> footer}}
        """

    static let runs = """
        {{> header}}
        <section id="runs"><h2>Training runs</h2>
        {{{chart_auc}}}
        <table><tr><th>run</th><th>created</th><th>model</th><th>training set</th><th class="n">train rows</th><th class="n">test AUC</th><th class="n">log loss</th><th class="n">s</th></tr>
        {{#runs}}<tr><td>{{id}}</td><td>{{created}}</td><td>{{model}}</td><td>{{training_set}}</td><td class="n">{{rows}}</td><td class="n">{{auc}}</td><td class="n">{{log_loss}}</td><td class="n">{{seconds}}</td></tr>{{/runs}}
        {{^runs}}<tr><td colspan="8" class="muted">no runs yet: strata train</td></tr>{{/runs}}
        </table></section>
        <section id="compare"><h2>Compare two runs</h2>
        <form method="get" action="/runs">
        <select name="a">{{#options}}<option value="{{id}}" {{#a}}selected{{/a}}>{{id}}</option>{{/options}}</select>
        <select name="b">{{#options}}<option value="{{id}}" {{#b}}selected{{/b}}>{{id}}</option>{{/options}}</select>
        <button type="submit">compare</button></form>
        {{#compare}}
        <table><tr><th>metric</th><th class="n">{{a}}</th><th class="n">{{b}}</th><th class="n">change</th></tr>
        {{#metrics}}<tr><td>{{metric}}</td><td class="n">{{a}}</td><td class="n">{{b}}</td><td class="n">{{delta}}</td></tr>{{/metrics}}
        </table>
        {{/compare}}
        {{{chart_compare}}}
        {{^compare}}<p class="muted">two runs are needed for a comparison</p>{{/compare}}
        </section>
        {{> footer}}
        """

    static let scoring = """
        {{> header}}
        <section id="buckets"><h2>Latest scoring{{#table}}: {{table}} ({{model}}, as of {{as_of}}){{/table}}</h2>
        {{{chart_buckets}}}
        {{^table}}<p class="muted">no predictions yet: strata predict --as-of DAY --out TABLE</p>{{/table}}
        <table>{{#buckets}}<tr><td>bucket {{bucket}}</td><td class="n">{{users}}</td></tr>{{/buckets}}</table>
        <p class="muted">A: will churn anyway · B: on the fence · C: safe</p></section>
        <section id="risky"><h2>Riskiest users</h2>
        <table><tr><th>msno</th><th class="n">churn probability</th><th>bucket</th><th>top reasons</th></tr>
        {{#risky}}<tr><td><code>{{msno}}</code></td><td class="n">{{probability}}</td><td>{{bucket}}</td><td>{{reasons}}</td></tr>{{/risky}}
        </table></section>
        {{> footer}}
        """

    static let reports = """
        {{> header}}
        <section id="weeks"><h2>Weekly churn reports</h2>
        {{{chart_weeks}}}
        {{{chart_saved}}}
        <table><tr><th>as of</th><th class="n">users</th><th class="n">A</th><th class="n">B</th><th class="n">C</th><th class="n">offers</th><th class="n">expected churners</th><th class="n">revenue at risk</th><th class="n">revenue saved</th><th class="n">discount given</th><th>model</th><th>offers from</th><th class="n">store version</th></tr>
        {{#reports}}<tr><td>{{as_of}}</td><td class="n">{{users}}</td><td class="n">{{a}}</td><td class="n">{{b}}</td><td class="n">{{c}}</td><td class="n">{{offers}}</td><td class="n">{{churners}}</td><td class="n">{{at_risk}}</td><td class="n">{{saved}}</td><td class="n">{{spend}}</td><td>{{model}}</td><td>{{uplift}}</td><td class="n">{{version}}</td></tr>{{/reports}}
        {{^reports}}<tr><td colspan="13" class="muted">no report yet: strata report --as-of DAY --out DIR</td></tr>{{/reports}}
        </table>
        <p class="muted">Each week's CSV and HTML are where strata report wrote them; rebuild one with strata report --version STORE_VERSION --as-of DAY.</p></section>
        {{> footer}}
        """

    static let drift = """
        {{> header}}
        <section id="drift"><h2>Drift</h2>
        {{#latest}}<p>As of {{as_of}}, {{model}}: reference {{reference}}, current {{current}}. Decision <b>{{decision}}</b>: {{reason}}</p>{{/latest}}
        {{#latest_auc}}<p>AUC on the newest labelled month: {{latest_auc}}</p>{{/latest_auc}}
        {{^latest}}<p class="muted">no drift report yet: strata monitor --as-of DAY</p>{{/latest}}
        {{{chart_deviation}}}
        {{#histograms}}{{{chart}}}{{/histograms}}
        <table><tr><th>feature</th><th>kind</th><th class="n">PSI</th><th class="n">JS</th><th class="n">KS</th><th class="n">KS p</th><th class="n">Wasserstein/σ</th><th>missing</th><th>drifted</th></tr>
        {{#features}}<tr><td>{{feature}}</td><td>{{kind}}</td><td class="n">{{psi}}</td><td class="n">{{js}}</td><td class="n">{{ks}}</td><td class="n">{{ks_p}}</td><td class="n">{{wasserstein}}</td><td>{{missing}}</td><td>{{drifted}}</td></tr>{{/features}}
        </table>
        <h3>Reports</h3>
        <table><tr><th>as of</th><th>model</th><th>deviation</th><th class="n">drifted</th><th>decision</th></tr>
        {{#history}}<tr><td>{{as_of}}</td><td>{{model}}</td><td>{{deviation}}</td><td class="n">{{drifted}}</td><td>{{decision}}</td></tr>{{/history}}
        </table></section>
        <section id="pipeline"><h2>Pipeline runs</h2>
        <table><tr><th>run</th><th>as of</th><th>status</th><th>decision</th><th>challenger</th><th>gates</th><th>production</th><th>steps</th><th class="n">alerts</th></tr>
        {{#runs}}<tr><td>{{id}}</td><td>{{as_of}}</td><td>{{status}}</td><td>{{decision}}</td><td>{{challenger}}</td><td>{{gates}}</td><td>{{production}}</td><td class="muted">{{steps}}</td><td class="n">{{alerts}}</td></tr>{{/runs}}
        {{^runs}}<tr><td colspan="9" class="muted">no pipeline run yet: strata pipeline run --config FILE</td></tr>{{/runs}}
        </table></section>
        {{> footer}}
        """
}
