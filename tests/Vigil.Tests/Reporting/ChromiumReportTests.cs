using System.Diagnostics;
using System.Text.RegularExpressions;
using OpenCvSharp;
using Vigil.Reporting;
using Vigil.Tests.Data;

namespace Vigil.Tests.Reporting;

/// <summary>
/// The report of a real run as a reader sees it, in headless Chromium: the page is not blank and every image loads;
/// with one PNG deleted the page's own check reports it (so this check can fail).
/// </summary>
[Collection(ReportRunCollection.Name)]
public class ChromiumReportTests(ReportRun run)
{
    [Fact]
    public void ReportCommandPrintsThePathAndThePageRendersWithEveryImage()
    {
        Assert.True(run.Report.ExitCode == 0, run.Report.ToString());
        Assert.Contains(run.ReportPath, run.Report.Stdout.Replace("\n", ""));
        var html = File.ReadAllText(run.ReportPath);
        int images = Regex.Matches(html, "<img ").Count;
        // Bubbles; image ROC, PR, pixel ROC, PRO; 3 overlays per role.
        Assert.Equal(1 + 4 + 9, images);

        using var temp = new TempTree();
        var screenshot = temp.Path("page.png");
        Chromium.Run($"--screenshot={screenshot}", "--window-size=1280,2400", run.ReportPath);
        using var shot = Cv2.ImRead(screenshot, ImreadModes.Grayscale);
        Assert.False(shot.Empty(), $"Chromium wrote no readable screenshot at {screenshot}");
        Cv2.MeanStdDev(shot, out _, out var deviation);
        Assert.True(deviation.Val0 > 20, $"The screenshot looks blank: grey-level standard deviation {deviation.Val0:F1}");

        var dom = Chromium.Run("--dump-dom", run.ReportPath);
        Assert.Equal(images.ToString(), BodyAttribute(dom, "data-images"));
        Assert.Equal("0", BodyAttribute(dom, HtmlReport.BrokenImagesAttribute));
    }

    [Fact]
    public void AMissingPngIsReportedByThePage()
    {
        using var temp = new TempTree();
        var copy = temp.Path("report");
        CopyFolder(Path.GetDirectoryName(run.ReportPath)!, copy);
        var overlay = Directory.GetFiles(Path.Combine(copy, "overlays"), "*.png", SearchOption.AllDirectories).Order().First();
        File.Delete(overlay);

        var dom = Chromium.Run("--dump-dom", Path.Combine(copy, HtmlReport.FileName));
        Assert.Equal("1", BodyAttribute(dom, HtmlReport.BrokenImagesAttribute));
        Assert.Contains("1 image(s) failed to load", dom);
        Assert.Contains(Path.GetFileName(overlay), dom);
    }

    private static string BodyAttribute(string dom, string name)
    {
        var body = Regex.Match(dom, "<body[^>]*>");
        Assert.True(body.Success, $"No <body> in Chromium's DOM:\n{dom[..Math.Min(dom.Length, 2000)]}");
        var attribute = Regex.Match(body.Value, $"{name}=\"([^\"]*)\"");
        Assert.True(attribute.Success, $"<body> has no {name}: {body.Value}");
        return attribute.Groups[1].Value;
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>Debian's headless Chromium; its absence fails the test with what to install.</summary>
    private static class Chromium
    {
        private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

        public static string Run(string action, params string[] more)
        {
            var executable = Candidates.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("Headless Chromium is needed to check the report page: install it with 'apt-get install -y chromium' (Debian package chromium).");
            using var profile = new TempTree(); // its own profile: parallel runs do not share a lock
            var start = new ProcessStartInfo(executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", $"--user-data-dir={profile.Root}", action })
                start.ArgumentList.Add(a);
            foreach (var a in more.SkipLast(1)) start.ArgumentList.Add(a);
            start.ArgumentList.Add(new Uri(Path.GetFullPath(more[^1])).AbsoluteUri);
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium {action} did not finish within 90 s.");
            }
            Assert.True(process.ExitCode == 0, $"chromium {action} exited {process.ExitCode}:\n{stderr.Result}");
            return stdout.Result;
        }
    }
}
