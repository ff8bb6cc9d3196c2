using System.IO.Compression;
using Vigil.Detectors;
using Vigil.Imaging;

namespace Vigil.Tests.Detectors;

public class ModelFileTests(TexturesFixture fixture) : IClassFixture<TexturesFixture>
{
    [Fact]
    public void GarbageFileIsAnInputErrorNamingTheFile()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8]);
            var error = Assert.Throws<VigilInputException>(() => DetectorFile.Load(path, _ => throw new InvalidOperationException("not reached")));
            Assert.Contains(path, error.Message);
            Assert.Contains("corrupt", error.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void OtherFormatVersionTruncationAndWrongBackboneAreInputErrors()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vigil-padim-{Guid.NewGuid():N}.vigil");
        try
        {
            using (var detector = new PadimDetector(new RandomConvFeatureExtractor(), new PadimOptions { Dimensions = 10 }))
            {
                detector.Fit(fixture.Data.Train);
                detector.Save(path);
            }

            var wrongPreprocessing = Assert.Throws<VigilInputException>(() =>
                DetectorFile.Load(path, _ => new RandomConvFeatureExtractor(preprocessing: new Preprocessing(64, 64))));
            Assert.Contains("preprocessing", wrongPreprocessing.Message);

            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            var truncated = Assert.Throws<VigilInputException>(() => DetectorFile.Load(path, _ => new RandomConvFeatureExtractor()));
            Assert.Contains("corrupt", truncated.Message);

            File.WriteAllBytes(path, bytes);
            using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
            {
                var entry = zip.GetEntry("model.json")!;
                string json;
                using (var reader = new StreamReader(entry.Open())) json = reader.ReadToEnd();
                entry.Delete();
                using var writer = new StreamWriter(zip.CreateEntry("model.json").Open());
                writer.Write(json.Replace("\"formatVersion\": 1", "\"formatVersion\": 99"));
            }
            var version = Assert.Throws<VigilInputException>(() => DetectorFile.Load(path, _ => new RandomConvFeatureExtractor()));
            Assert.Contains("format version 99", version.Message);
        }
        finally { File.Delete(path); }
    }
}
