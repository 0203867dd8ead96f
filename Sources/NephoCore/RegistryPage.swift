import Foundation

/// The browsable page of a registry: one static HTML file with inline CSS and
/// JavaScript and no other dependency. Every cloudlet is rendered on the server side
/// (the list works without JavaScript); the search box filters and ranks the list as
/// you type, with the same rules as `cloudlet:search` (name, then summary, then
/// description and keywords; every word must match).
public enum RegistryPage {
    public static func render(_ index: RegistryIndex, title: String) -> String {
        let items = index.cloudlets.sorted { $0.name.lowercased() < $1.name.lowercased() }.map(item).joined(
            separator: "\n")
        let count = index.cloudlets.count
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="nepho registry:build">
            <title>\(html(title))</title>
            <style>
            \(css)
            </style>
            </head>
            <body>
            <header>
            <h1>\(html(title))</h1>
            <p class="how">Use this registry: <code id="registry-add">nepho cloudlet:registry add index.json</code></p>
            <input id="search" type="search" placeholder="Search \(count) cloudlets" autocomplete="off" autofocus aria-label="Search cloudlets">
            <p id="count" aria-live="polite">\(count) cloudlet\(count == 1 ? "" : "s")</p>
            </header>
            <main>
            <ul id="cloudlets">
            \(items)
            </ul>
            <p id="none" hidden>No cloudlet matches.</p>
            </main>
            <footer>Generated\(index.generated.map { " " + html($0) } ?? "") by nepho registry:build · <a href="index.json">index.json</a></footer>
            <script>
            \(script)
            </script>
            </body>
            </html>

            """
    }

    static func item(_ entry: RegistryEntry) -> String {
        let keywords = entry.keywords.map { "<li>\(html($0))</li>" }.joined()
        let versions = entry.versions.map { "<li>\(html($0))</li>" }.joined()
        let project =
            entry.projectPage.map {
                "<a class=\"project\" href=\"\(html($0))\" rel=\"noopener noreferrer\">Project page</a>"
            } ?? ""
        let meta = [entry.author.map { "by \(html($0))" }, entry.license.map { html($0) }].compactMap { $0 }
            .joined(
                separator: " · ")
        return """
            <li class="cloudlet" data-name="\(html(entry.name.lowercased()))" data-summary="\(html(entry.summary.lowercased()))" data-other="\(html(([entry.description ?? ""] + entry.keywords).joined(separator: " ").lowercased()))">
            <h2>\(html(entry.name)) <span class="version">\(html(entry.version))</span></h2>
            <p class="summary">\(html(entry.summary))</p>
            \(entry.description.map { "<p class=\"description\">\(html($0))</p>" } ?? "")
            <p class="meta">\(meta) \(project)</p>
            <div class="install"><code>nepho cloudlet:install \(html(entry.name))</code></div>
            <div class="versions-line">Versions: <ul class="versions">\(versions)</ul></div>
            <ul class="keywords">\(keywords)</ul>
            </li>
            """
    }

    /// Text made safe for HTML content and attribute values.
    public static func html(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static let css = """
        :root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6475; --bg: #fafbfc; --card: #fff; --line: #dde1e8; --accent: #2458c5; }
        @media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa3b2; --bg: #14171c; --card: #1c2027; --line: #2d333d; --accent: #7aa2f7; } }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
        header, main, footer { max-width: 960px; margin: 0 auto; padding: 0 1rem; }
        h1 { margin: 1.5rem 0 .25rem; font-size: 1.8rem; }
        .how { color: var(--muted); margin: 0 0 1rem; }
        #search { width: 100%; padding: .7rem 1rem; font-size: 1.1rem; border: 1px solid var(--line); border-radius: .5rem; background: var(--card); color: var(--fg); }
        #count { color: var(--muted); font-size: .9rem; }
        #cloudlets { list-style: none; padding: 0; margin: 0; display: grid; gap: .75rem; }
        .cloudlet { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem; }
        .cloudlet h2 { font-size: 1.15rem; margin: 0; }
        .version { font-size: .8rem; color: var(--muted); font-weight: normal; }
        .summary { margin: .25rem 0; }
        .description, .meta { color: var(--muted); font-size: .9rem; margin: .25rem 0; white-space: pre-line; }
        .install code, .how code { background: var(--bg); border: 1px solid var(--line); border-radius: .3rem; padding: .1rem .4rem; font-size: .85rem; user-select: all; }
        a { color: var(--accent); }
        .versions-line { font-size: .85rem; color: var(--muted); margin-top: .25rem; display: flex; gap: .4rem; align-items: baseline; }
        .versions-line .versions { margin: 0; }
        .keywords, .versions { list-style: none; padding: 0; margin: .35rem 0 0; display: flex; flex-wrap: wrap; gap: .3rem; }
        .keywords li, .versions li { font-size: .75rem; border: 1px solid var(--line); border-radius: 1rem; padding: 0 .5rem; }
        footer { color: var(--muted); font-size: .8rem; margin: 2rem auto; }
        """

    /// Filtering and ranking; no library, no network.
    static let script = """
        (function () {
          var list = document.getElementById('cloudlets');
          var items = Array.prototype.slice.call(list.children);
          var input = document.getElementById('search');
          var count = document.getElementById('count');
          var none = document.getElementById('none');
          var total = items.length;
          var add = document.getElementById('registry-add');
          if (location.protocol === 'http:' || location.protocol === 'https:') {
            add.textContent = 'nepho cloudlet:registry add ' + new URL('index.json', location.href).href;
          }
          function score(item, words) {
            var sum = 0;
            for (var i = 0; i < words.length; i++) {
              var w = words[i];
              if (item.dataset.name.indexOf(w) >= 0) sum += 3;
              else if (item.dataset.summary.indexOf(w) >= 0) sum += 2;
              else if (item.dataset.other.indexOf(w) >= 0) sum += 1;
              else return 0;
            }
            var whole = words.join(' ');
            var name = item.dataset.name;
            if (words.length && (name === whole || name.slice(name.indexOf('/') + 1) === whole)) sum += 1000;
            return sum;
          }
          function update() {
            var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
            var ranked = items.map(function (item, i) { return { item: item, i: i, s: words.length ? score(item, words) : 1 }; });
            ranked.sort(function (a, b) { return b.s - a.s || a.i - b.i; });
            var shown = 0;
            ranked.forEach(function (r) { r.item.hidden = r.s === 0; if (r.s) shown++; list.appendChild(r.item); });
            count.textContent = words.length ? shown + ' of ' + total + ' cloudlets' : total + (total === 1 ? ' cloudlet' : ' cloudlets');
            none.hidden = shown !== 0;
          }
          input.addEventListener('input', update);
          if (input.value) update();
        })();
        """
}
