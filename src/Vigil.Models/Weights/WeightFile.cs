using Vigil.Weights.Formats;

namespace Vigil.Weights;

/// <summary>
/// Reads any supported weight file into a <see cref="StateDict"/>, telling the format from the file's first bytes
/// (not its extension): safetensors, torch.save checkpoints (.pth/.pt, zip or legacy), or TorchScript modules.
/// </summary>
public static class WeightFile
{
    public static StateDict Read(string path)
    {
        if (!File.Exists(path)) throw new VigilInputException($"Weight file {path} does not exist.");
        var head = new byte[16];
        int n;
        using (var f = File.OpenRead(path)) n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var span = head.AsSpan(0, n);
        if (SafeTensorsFile.LooksLikeSafeTensors(span)) return SafeTensorsFile.Read(path);
        if (PyTorchCheckpoint.LooksLikeCheckpoint(span))
            return IsTorchScriptArchive(path) ? TorchScriptModule.Read(path) : PyTorchCheckpoint.Read(path);
        throw new VigilInputException($"{path} is neither a .safetensors file, a torch.save state_dict (.pth/.pt) nor a TorchScript module; " +
            "export the weights with torch.save(model.state_dict(), path) or safetensors.torch.save_file(model.state_dict(), path).");
    }

    /// <summary>TorchScript archives hold constants.pkl and code/ beside data.pkl; plain torch.save archives do not.</summary>
    private static bool IsTorchScriptArchive(string path)
    {
        try
        {
            using var zip = System.IO.Compression.ZipFile.OpenRead(path);
            return zip.Entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal) || e.FullName.Contains("/code/", StringComparison.Ordinal));
        }
        catch (InvalidDataException)
        {
            return false; // legacy torch.save files are not zips
        }
    }
}
