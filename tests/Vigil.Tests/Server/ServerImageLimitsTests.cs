using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using OpenCvSharp;
using Vigil.Server;

namespace Vigil.Tests.Server;

/// <summary>
/// Uploads meet the same image size limits as files (docs/limits.md): an absurd size is refused from its header with
/// a 4xx JSON error before anything is decoded, a huge image is scored reduced, a tiny one with a warning, a damaged
/// header does not hang.
/// </summary>
public class ServerImageLimitsTests(ServedModels models) : IClassFixture<ServedModels>
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web) { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private static ByteArrayContent Image(byte[] bytes, string type)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        return content;
    }

    private async Task<(VigilServer Server, HttpClient Client)> Start()
    {
        var server = await VigilServer.StartAsync(new ServerOptions { ModelsFolder = models.Folder(("line", models.First)), Urls = "http://127.0.0.1:0" });
        return (server, new HttpClient { BaseAddress = server.Addresses[0], Timeout = TimeSpan.FromMinutes(2) });
    }

    [Fact]
    public async Task AnUploadWhoseHeaderClaimsAnAbsurdSizeIsRefusedWithA400NamingTheSize()
    {
        // 33 bytes: a PNG signature and an IHDR chunk claiming 20000 × 20000 RGB pixels (1.2 GB decoded), no data.
        var png = new byte[33];
        new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' }.CopyTo(png, 0);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), 20000);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), 20000);
        (png[24], png[25]) = (8, 2); // 8 bits, RGB
        var (server, client) = await Start();
        await using (server)
        using (client)
        {
            using var response = await client.PostAsync("/v1/models/line/predict", Image(png, "image/png"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
            var error = JsonSerializer.Deserialize<ErrorResponse>(body, Web)!.Error;
            Assert.Contains("Image 'body' is 20000x20000 pixels", error);
            Assert.Contains("Scale it down", error);

            // In a batch the same image gets its error and the others are scored.
            using var form = new MultipartFormDataContent
            {
                { Image(png, "image/png"), "images", "absurd.png" },
                { Image(await File.ReadAllBytesAsync(models.TestImages[0]), "image/png"), "images", "good.png" },
            };
            using var batch = await client.PostAsync("/v1/models/line/predict/batch", form);
            var results = (await batch.Content.ReadFromJsonAsync<BatchResponse>(Web))!.Results;
            Assert.Contains("Image 'absurd.png' is 20000x20000 pixels", results[0].Error);
            Assert.NotNull(results[1].Prediction);
        }
    }

    [Fact]
    public async Task AHugeUploadIsScoredReducedToTheDecodeLimit()
    {
        // 5000 × 300 stored: the longer side becomes 4096, the other 300 · 4096 / 5000 = 245.76 → 246.
        using var mat = new Mat(300, 5000, MatType.CV_8UC3, Scalar.All(128));
        Cv2.ImEncode(".png", mat, out var png);
        Cv2.ImEncode(".jpg", mat, out var jpeg);
        var (server, client) = await Start();
        await using (server)
        using (client)
            foreach (var (bytes, type) in new[] { (png, "image/png"), (jpeg, "image/jpeg") })
            {
                using var response = await client.PostAsync("/v1/models/line/predict", Image(bytes, type));
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK, body);
                var prediction = JsonSerializer.Deserialize<PredictionResponse>(body, Web)!;
                Assert.Equal((4096, 246), (prediction.Width, prediction.Height));
            }
    }

    [Fact]
    public async Task ATinyUploadIsScoredWithAWarningAsPredictGivesIt()
    {
        using var mat = new Mat(8, 20, MatType.CV_8UC3, Scalar.All(90));
        Cv2.ImEncode(".png", mat, out var png);
        var (server, client) = await Start();
        await using (server)
        using (client)
        {
            using var response = await client.PostAsync("/v1/models/line/predict", Image(png, "image/png"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal("Image 'body' is 20x8 pixels, below 32 on a side: a model enlarges it many times, so its score and map say little.",
                JsonSerializer.Deserialize<PredictionResponse>(body, Web)!.Warning);
            using var normal = await client.PostAsync("/v1/models/line/predict", Image(await File.ReadAllBytesAsync(models.TestImages[0]), "image/png"));
            Assert.Null((await normal.Content.ReadFromJsonAsync<PredictionResponse>(Web))!.Warning);
        }
    }

    [Fact]
    public async Task AJpegWithAZeroSegmentLengthIsAnErrorNotAHang()
    {
        // Start of image, then an APP0 segment whose length field is 0, then end of image.
        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00, 0xFF, 0xD9];
        var (server, client) = await Start();
        await using (server)
        using (client)
        {
            using var response = await client.PostAsync("/v1/models/line/predict", Image(jpeg, "image/jpeg"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("cannot be decoded", JsonSerializer.Deserialize<ErrorResponse>(await response.Content.ReadAsStringAsync(), Web)!.Error);
        }
    }
}
