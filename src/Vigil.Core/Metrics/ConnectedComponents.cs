using Vigil.Imaging;

namespace Vigil.Metrics;

/// <summary>Connected components of a mask's defective pixels with 8-connectivity (scipy.ndimage.label with a 3×3 structure).</summary>
public static class ConnectedComponents
{
    /// <summary>Row-major labels: 0 = background, 1..count = component, numbered in raster order of their first pixel.</summary>
    public static int[] Label(BinaryMask mask, out int count)
    {
        ArgumentNullException.ThrowIfNull(mask);
        int h = mask.Height, w = mask.Width;
        var labels = new int[h * w];
        var data = mask.Data;
        var stack = new Stack<int>();
        count = 0;
        for (int start = 0; start < data.Length; start++)
        {
            if (!data[start] || labels[start] != 0) continue;
            int label = ++count;
            labels[start] = label;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int p = stack.Pop();
                int y = p / w, x = p - y * w;
                for (int dy = -1; dy <= 1; dy++)
                {
                    int ny = y + dy;
                    if ((uint)ny >= (uint)h) continue;
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int nx = x + dx;
                        if ((uint)nx >= (uint)w) continue;
                        int q = ny * w + nx;
                        if (data[q] && labels[q] == 0) { labels[q] = label; stack.Push(q); }
                    }
                }
            }
        }
        return labels;
    }
}
