using Vigil.Data.Synthetic;
using Vigil.Imaging;

namespace Vigil.Tests.Data.Synthetic;

public class SyntheticDefectTests
{
    public static TheoryData<string, string> CategoryDefects()
    {
        var data = new TheoryData<string, string>();
        foreach (var category in SyntheticDataset.Categories)
            foreach (var defect in SyntheticDataset.DefectTypes(category)) data.Add(category, defect);
        return data;
    }

    [Theory]
    [MemberData(nameof(CategoryDefects))]
    public void MaskIsExactlyThePixelsTheDefectChanged(string category, string defect)
    {
        for (ulong seed = 1; seed <= 5; seed++)
        {
            var clean = SyntheticDataset.Render(category, 128, seed).Image;
            var (image, mask) = SyntheticDataset.Render(category, 128, seed, defect);
            int plane = 128 * 128, changedInMask = 0;
            for (int i = 0; i < plane; i++)
            {
                bool changed = false;
                for (int c = 0; c < 3; c++) changed |= image.Data[c * plane + i] != clean.Data[c * plane + i];
                if (mask.Data[i]) changedInMask += changed ? 1 : 0;
                else Assert.False(changed, $"{category}/{defect} seed {seed}: pixel {i % 128},{i / 128} changed outside the mask");
            }
            int area = mask.CountDefective();
            Assert.InRange(area, 10, plane / 20); // present, and local (under 5 % of the image)
            Assert.True(changedInMask >= 0.98 * area, $"{category}/{defect} seed {seed}: only {changedInMask} of {area} mask pixels changed");
        }
    }

    [Fact]
    public void NormalImagesHaveEmptyMasksAndEightBitValues()
    {
        foreach (var category in SyntheticDataset.Categories)
        {
            var (image, mask) = SyntheticDataset.Render(category, 64, 3);
            Assert.Equal(0, mask.CountDefective());
            Assert.All(image.Data, v => Assert.Equal(v * 255, MathF.Round(v * 255), 3));
        }
    }

    [Fact]
    public void RenderedImageIsWhatThePngStores()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vigil-synth-{Guid.NewGuid():N}.png");
        try
        {
            var image = SyntheticDataset.Render("nut", 64, 11, "stain").Image;
            ImageIO.Write(image, path);
            var back = ImageIO.ReadRgb(path);
            Assert.Equal(image.Data.Select(v => (int)MathF.Round(v * 255)), back.Data.Select(v => (int)MathF.Round(v * 255)));
        }
        finally { File.Delete(path); }
    }
}
