namespace Vigil;

/// <summary>Counts in messages with the noun in the right number: "1 image", "2 images".</summary>
public static class Counted
{
    /// <param name="plural">For irregular nouns ("category", "categories"); default the singular plus "s".</param>
    public static string Of(long count, string singular, string? plural = null) =>
        $"{count} {(count == 1 ? singular : plural ?? singular + "s")}";
}
