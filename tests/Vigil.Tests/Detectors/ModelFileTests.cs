using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Vigil.Deployment;
using Vigil.Detectors;
using Vigil.Detectors.Padim;
using Vigil.Imaging;

namespace Vigil.Tests.Detectors;

/// <summary>Model files are verified whole on load: damage, edits, other versions and wrong backbones are errors naming the file.</summary>
public class ModelFileTests(TexturesFixture fixture) : IClassFixture<TexturesFixture>, IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"vigil-model-file-{Guid.NewGuid():N}.vgl");

    public void Dispose() => File.Delete(_path);

    private byte[] SavedPadim()
    {
        using var detector = new PadimDetector(new RandomConvFeatureExtractor(), new PadimOptions { Dimensions = 10 });
        detector.Fit(fixture.Data.Train);
        detector.Save(_path);
        return File.ReadAllBytes(_path);
    }

    private VigilInputException LoadError() =>
        Assert.Throws<VigilInputException>(() => DeployedModel.Load(_path, _ => new RandomConvFeatureExtractor()).Dispose());

    [Fact]
    public void GarbageFileIsAnInputErrorNamingTheFile()
    {
        File.WriteAllBytes(_path, [1, 2, 3, 4, 5, 6, 7, 8]);
        var error = LoadError();
        Assert.Contains(_path, error.Message);
        Assert.Contains("damaged", error.Message);
    }

    [Fact]
    public void EverySingleFlippedBitInTheStateIsFound()
    {
        var bytes = SavedPadim();
        // Flip one bit at a spread of places: inside compressed tensor data, zip headers, the manifest, its checksum.
        int flipped = 0;
        for (long position = 0; position < bytes.Length; position += Math.Max(1, bytes.Length / 97))
        {
            var damaged = (byte[])bytes.Clone();
            damaged[position] ^= 0x10;
            File.WriteAllBytes(_path, damaged);
            var error = LoadError();
            Assert.Contains(_path, error.Message);
            flipped++;
        }
        Assert.True(flipped > 90);
        File.WriteAllBytes(_path, bytes);
        DeployedModel.Load(_path, _ => new RandomConvFeatureExtractor()).Dispose(); // the undamaged file loads
    }

    [Fact]
    public void TruncationOtherFormatVersionAndWrongBackboneAreInputErrors()
    {
        var bytes = SavedPadim();
        var wrongPreprocessing = Assert.Throws<VigilInputException>(() =>
            DeployedModel.Load(_path, _ => new RandomConvFeatureExtractor(preprocessing: new Preprocessing(64, 64))));
        Assert.Contains("preprocessing", wrongPreprocessing.Message);
        Assert.Contains(_path, wrongPreprocessing.Message);

        File.WriteAllBytes(_path, bytes[..(bytes.Length / 2)]);
        Assert.Contains("damaged", LoadError().Message);

        File.WriteAllBytes(_path, bytes);
        EditManifest(m => m["formatVersion"] = 99);
        Assert.Contains("format version 99", LoadError().Message);
    }

    [Fact]
    public void AModelRelabelledToAnotherTypeIsAnErrorNamingTheFile()
    {
        SavedPadim();
        EditManifest(m => m["model"] = "spade");
        var error = LoadError();
        Assert.Contains(_path, error.Message);
        Assert.Contains("'spade'", error.Message);
    }

    [Fact]
    public void AnEditedManifestWithoutItsChecksumIsFound()
    {
        SavedPadim();
        EditManifest(m => m["options"]!["regularisation"] = "0.5", rehash: false);
        Assert.Contains("does not match its checksum", LoadError().Message);
        using var zip = ZipFile.OpenRead(_path);
        Assert.Equal(64, zip.Comment.Length); // the edit kept the old checksum: the content changed under it
    }

    [Fact]
    public void AFailedSaveLeavesNoFileBehind()
    {
        using var unfitted = new PadimDetector(new RandomConvFeatureExtractor());
        Assert.Throws<InvalidOperationException>(() => unfitted.Save(_path));
        Assert.False(File.Exists(_path));
        Assert.False(File.Exists(_path + ".partial"));
    }

    /// <summary>Rewrites the manifest and, unless told not to, the file's checksum (its last 64 bytes), as a deliberate edit would.</summary>
    private void EditManifest(Action<JsonObject> edit, bool rehash = true)
    {
        using (var zip = ZipFile.Open(_path, ZipArchiveMode.Update))
        {
            var entry = zip.GetEntry("manifest.json")!;
            JsonObject manifest;
            using (var stream = entry.Open()) manifest = JsonNode.Parse(stream)!.AsObject();
            edit(manifest);
            entry.Delete();
            using var writer = new StreamWriter(zip.CreateEntry("manifest.json").Open());
            writer.Write(manifest.ToJsonString());
        }
        if (!rehash) return;
        var bytes = File.ReadAllBytes(_path);
        Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA256.HashData(bytes.AsSpan(0, bytes.Length - 64)))).CopyTo(bytes, bytes.Length - 64);
        File.WriteAllBytes(_path, bytes);
    }
}
