using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Vigil.Server;

/// <summary>Counters and latency histograms of the server, written in the Prometheus text format (version 0.0.4).</summary>
internal sealed class ServerMetrics
{
    /// <summary>Upper bounds (seconds) of the prediction latency buckets.</summary>
    private static readonly double[] Buckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly ConcurrentDictionary<(string Model, int Code), long> _requests = new();
    private readonly ConcurrentDictionary<string, Histogram> _latency = new(StringComparer.Ordinal);

    public void Request(string model, int statusCode) => _requests.AddOrUpdate((model, statusCode), 1, (_, n) => n + 1);

    public void Latency(string model, double seconds) => _latency.GetOrAdd(model, _ => new Histogram()).Observe(seconds);

    public string Render(int running, int waiting, int models, int loadErrors)
    {
        var text = new StringBuilder();
        text.Append("# HELP vigil_requests_total Prediction and model requests by model and HTTP status.\n# TYPE vigil_requests_total counter\n");
        foreach (var ((model, code), count) in _requests.OrderBy(r => r.Key.Model, StringComparer.Ordinal).ThenBy(r => r.Key.Code))
            text.Append($"vigil_requests_total{{model=\"{Escape(model)}\",code=\"{code}\"}} {count}\n");
        text.Append("# HELP vigil_prediction_seconds Time to score one image (decode, predict, maps), by model.\n# TYPE vigil_prediction_seconds histogram\n");
        foreach (var (model, histogram) in _latency.OrderBy(h => h.Key, StringComparer.Ordinal))
            histogram.Render(text, "vigil_prediction_seconds", $"model=\"{Escape(model)}\"");
        Gauge(text, "vigil_inference_running", "Predictions running now.", running);
        Gauge(text, "vigil_inference_waiting", "Requests waiting for a free slot (the queue).", waiting);
        Gauge(text, "vigil_models_loaded", "Models in service.", models);
        Gauge(text, "vigil_model_load_errors", "Model files that failed to load (see GET /v1/models).", loadErrors);
        return text.ToString();
    }

    private static void Gauge(StringBuilder text, string name, string help, double value) =>
        text.Append($"# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value.ToString(CultureInfo.InvariantCulture)}\n");

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    private sealed class Histogram
    {
        private readonly long[] _counts = new long[Buckets.Length];
        private long _count;
        private double _sum;

        public void Observe(double seconds)
        {
            lock (this)
            {
                for (int i = 0; i < Buckets.Length; i++)
                    if (seconds <= Buckets[i]) _counts[i]++;
                _count++;
                _sum += seconds;
            }
        }

        public void Render(StringBuilder text, string name, string labels)
        {
            lock (this)
            {
                for (int i = 0; i < Buckets.Length; i++)
                    text.Append($"{name}_bucket{{{labels},le=\"{Buckets[i].ToString(CultureInfo.InvariantCulture)}\"}} {_counts[i]}\n");
                text.Append($"{name}_bucket{{{labels},le=\"+Inf\"}} {_count}\n");
                text.Append($"{name}_sum{{{labels}}} {_sum.ToString("R", CultureInfo.InvariantCulture)}\n");
                text.Append($"{name}_count{{{labels}}} {_count}\n");
            }
        }
    }
}
