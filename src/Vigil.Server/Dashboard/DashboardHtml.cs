using System.Globalization;
using System.Net;
using System.Text;

namespace Vigil.Server.Dashboard;

/// <summary>
/// A dashboard page: plain server-rendered HTML with its style inline (no CDN: a production line has no internet).
/// Every text from the store or the user passes through <see cref="E"/>.
/// </summary>
internal sealed class DashboardHtml
{
    private readonly StringBuilder _html = new();

    public DashboardHtml(string title, bool models)
    {
        _html.Append($"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{E(title)} · Vigil</title>\n" +
                     $"<link rel=\"icon\" href=\"data:,\"><style>{Style}</style></head>\n<body>\n<nav><b>Vigil</b> <a href=\"/dashboard\">runs</a> " +
                     "<a href=\"/dashboard/cells\">cells</a>" + (models ? " <a href=\"/dashboard/predict\">try a model</a>" : "") +
                     $"</nav>\n<h1>{E(title)}</h1>\n");
    }

    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    public static string Number(double value, string format = "F3") =>
        double.IsNaN(value) ? "n/a" : value.ToString(format, CultureInfo.InvariantCulture);

    public DashboardHtml Raw(string html)
    {
        _html.Append(html);
        return this;
    }

    public DashboardHtml Note(string text) => Raw($"<p class=\"note\">{E(text)}</p>\n");

    /// <summary>A table of text cells (escaped here); <paramref name="link"/> makes the first cell of a row a link.</summary>
    public DashboardHtml Table(string id, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows, Func<int, string?>? link = null)
    {
        Raw($"<table id=\"{id}\">\n<thead><tr>{string.Concat(header.Select(h => $"<th>{E(h)}</th>"))}</tr></thead>\n<tbody>\n");
        int r = 0;
        foreach (var row in rows)
        {
            var href = link?.Invoke(r++);
            Raw("<tr>" + string.Concat(row.Select((cell, c) => c == 0 && href is not null ? $"<td><a href=\"{E(href)}\">{E(cell)}</a></td>" : $"<td>{E(cell)}</td>")) + "</tr>\n");
        }
        return Raw("</tbody></table>\n");
    }

    public string End(string? script = null) =>
        _html.Append(script is null ? "" : $"<script>{script}</script>\n").Append("</body></html>\n").ToString();

    private const string Style =
        "body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222;background:#fff}nav{margin-bottom:1em}nav a{margin-left:1em}" +
        "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}" +
        ".note{background:#fff4d6;border-left:4px solid #e0a800;padding:.4em .8em}.small{font-size:.85em;color:#555}" +
        "form.filters{display:flex;gap:1em;align-items:end;flex-wrap:wrap}label{display:flex;flex-direction:column;align-items:flex-start;font-size:.9em;margin:.5em 0}" +
        "iframe{width:100%;border:1px solid #ccc;min-height:600px}" +
        "#drop{border:2px dashed #888;padding:2em;text-align:center;margin:1em 0;max-width:40em}#drop.over{background:#eef}" +
        ".verdict{font-size:1.6em;font-weight:bold}.anomalous{color:#b00}.normal{color:#070}" +
        ".pictures{display:flex;gap:1em;flex-wrap:wrap}.pictures img{height:320px;image-rendering:pixelated;border:1px solid #ccc}";
}
