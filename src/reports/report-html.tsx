import type { ReportDocument } from './report-sections.js';

// Inline: the report is a single file that must read the same when saved or mailed.
const STYLE = `body{font:14px/1.4 system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.2rem .4rem;text-align:left}
caption{text-align:left;font-weight:600}`;

/** A whole HTML document of a report; every value is escaped (`safe`). */
export async function reportHtml(doc: ReportDocument): Promise<string> {
  // JSX.Element is a string, or a promise of one where a child is async (none here).
  const page: JSX.Element = (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title safe>{doc.title}</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <h1 safe>{doc.title}</h1>
        <p safe>{doc.subtitle}</p>
        {doc.sections.map((s) => (
          <section>
            <h2 safe>{s.title}</h2>
            {s.facts ? (
              <dl>
                {s.facts.map(([term, value]) => (
                  <>
                    <dt safe>{term}</dt>
                    <dd safe>{value}</dd>
                  </>
                ))}
              </dl>
            ) : (
              ''
            )}
            {s.table ? (
              s.table.rows.length === 0 ? (
                <p safe>{s.table.empty}</p>
              ) : (
                <table>
                  <caption safe>{s.table.caption}</caption>
                  <thead>
                    <tr>
                      {s.table.head.map((h) => (
                        <th safe>{h}</th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {s.table.rows.map((row) => (
                      <tr>
                        {row.map((cell) => (
                          <td safe>{cell}</td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            ) : (
              ''
            )}
          </section>
        ))}
      </body>
    </html>
  );
  return `<!doctype html>${await page}`;
}
