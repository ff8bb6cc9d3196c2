namespace Vigil.Settings;

/// <summary>
/// The IM-IAD continual setting: one model learns a sequence of tasks (categories) one after another. Not a
/// transformation of one split like <see cref="LearningSetting"/>: a run consumes several categories' splits.
/// Spec: <c>continual</c> (every category of the run, in order) or <c>continual:tasks=a+b+c</c> (those, in that order;
/// a task is a category or dataset/category).
/// </summary>
public sealed record ContinualSetting(IReadOnlyList<string> Tasks)
{
    public const string Name = "continual";

    /// <summary>The spec <see cref="TryParse"/> reads back into this setting.</summary>
    public string Spec => Tasks.Count == 0 ? Name : $"{Name}:tasks={string.Join("+", Tasks)}";

    public const string Form = "  continual[:tasks=A+B+C]            learn the categories (or dataset/category) one after another with one model, testing on all seen so far (default: every category of the run, in order)";

    /// <summary>True when <paramref name="spec"/> names the continual setting; a malformed continual spec is an input error.</summary>
    public static bool TryParse(string spec, out ContinualSetting? setting)
    {
        var text = spec.Trim();
        setting = null;
        if (!text.Equals(Name, StringComparison.OrdinalIgnoreCase) && !text.StartsWith(Name + ":", StringComparison.OrdinalIgnoreCase)) return false;
        if (text.Length == Name.Length)
        {
            setting = new ContinualSetting([]);
            return true;
        }
        var parameter = text[(Name.Length + 1)..];
        if (!parameter.StartsWith("tasks=", StringComparison.OrdinalIgnoreCase))
            throw new VigilInputException($"Setting '{spec}': continual takes only tasks=A+B+C (categories in training order). Valid settings:{Environment.NewLine}{Form}");
        var tasks = parameter["tasks=".Length..].Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (tasks.Length < 2 || tasks.Distinct(StringComparer.Ordinal).Count() != tasks.Length)
            throw new VigilInputException($"Setting '{spec}': continual needs at least two distinct tasks, e.g. continual:tasks=wood+nut+tile.");
        setting = new ContinualSetting(tasks);
        return true;
    }

    /// <summary>
    /// The run's (task name, split) pairs to learn, in order: all of them, or those the spec lists (a task matches a
    /// category name or "dataset/category"). Unknown task names are an input error listing the available ones.
    /// </summary>
    public IReadOnlyList<(string Task, T Split)> Select<T>(IReadOnlyList<(string Dataset, string Category, T Split)> available)
    {
        string NameOf((string Dataset, string Category, T Split) a) =>
            available.Count(b => b.Category == a.Category) > 1 ? $"{a.Dataset}/{a.Category}" : a.Category;
        if (Tasks.Count == 0) return available.Select(a => (NameOf(a), a.Split)).ToList();
        return Tasks.Select(t =>
        {
            var match = available.Where(a => a.Category == t || $"{a.Dataset}/{a.Category}" == t).ToList();
            if (match.Count != 1)
                throw new VigilInputException($"Continual task '{t}' {(match.Count == 0 ? "is not among" : "is ambiguous in")} the run's categories: " +
                                              $"{string.Join(", ", available.Select(a => $"{a.Dataset}/{a.Category}"))}.");
            return (t, match[0].Split);
        }).ToList();
    }
}
