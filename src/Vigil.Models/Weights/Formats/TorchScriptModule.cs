using TorchSharp;

namespace Vigil.Weights.Formats;

/// <summary>
/// Reads the parameters and buffers of a TorchScript module (<c>torch.jit.save</c> / <c>torch.jit.trace(...).save</c>)
/// by name, through libtorch's own loader.
/// </summary>
public static class TorchScriptModule
{
    public static StateDict Read(string path)
    {
        torch.jit.ScriptModule module;
        try
        {
            module = torch.jit.load(path);
        }
        catch (Exception e) when (e is not VigilInputException)
        {
            throw new VigilInputException($"{path} could not be loaded as a TorchScript module: {e.Message}", e);
        }
        using (module)
        {
            var result = new StateDict(path);
            try
            {
                foreach (var (name, p) in module.named_parameters()) result.Add(name, p.detach().clone());
                foreach (var (name, b) in module.named_buffers()) result.Add(name, b.detach().clone());
                return result;
            }
            catch
            {
                result.Dispose();
                throw;
            }
        }
    }
}
