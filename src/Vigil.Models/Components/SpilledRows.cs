using static TorchSharp.torch;

namespace Vigil.Components;

/// <summary>
/// Float rows [N, D] written to a temporary file as they are produced and read back by row index: for work that
/// must see every row once but afterwards needs only a few of them (PatchCore keeps 10 % of its training patches),
/// so the rows cost disk instead of memory. The file is a <see cref="ScratchFile"/> in the system's temporary folder
/// (TMPDIR): it has no name while in use and disappears when this is disposed or the process ends, however it ends.
/// </summary>
public sealed class SpilledRows : IDisposable
{
    private readonly FileStream _file;
    private readonly string _folder;

    /// <summary>An empty file for rows of <paramref name="dimension"/> float32 values in <paramref name="folder"/> (default: the temporary folder).</summary>
    public SpilledRows(int dimension, string? folder = null)
    {
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), $"Rows need at least one value, got {dimension}.");
        Dimension = dimension;
        _folder = folder ?? System.IO.Path.GetTempPath();
        try
        {
            _file = ScratchFile.Create("vigil-rows-", _folder, out var path);
            Path = path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unwritable(e);
        }
    }

    public int Dimension { get; }

    /// <summary>Rows written so far.</summary>
    public long Count { get; private set; }

    /// <summary>The temporary file's name when it was made (on Unix it is removed at once).</summary>
    public string Path { get; }

    private long RowBytes => (long)Dimension * sizeof(float);

    /// <summary>Appends rows [n, D] (converted to float32).</summary>
    public void Append(Tensor rows)
    {
        if (rows.dim() != 2 || rows.shape[1] != Dimension)
            throw new ArgumentException($"Rows must be [n, {Dimension}], got [{string.Join(", ", rows.shape)}].", nameof(rows));
        long chunkRows = Math.Max(1, (1 << 26) / RowBytes); // spans of the tensor's memory stay far below 2 GiB
        try
        {
            for (long start = 0; start < rows.shape[0]; start += chunkRows)
            {
                using var scope = NewDisposeScope();
                var chunk = rows.narrow(0, start, Math.Min(chunkRows, rows.shape[0] - start)).to_type(ScalarType.Float32).contiguous();
                _file.Write(chunk.bytes);
            }
        }
        catch (IOException e)
        {
            throw Unwritable(e);
        }
        Count += rows.shape[0];
    }

    /// <summary>Rows <paramref name="indices"/>, in that order (repeats allowed): float32 [indices, D].</summary>
    public Tensor Gather(IReadOnlyList<long> indices)
    {
        foreach (long i in indices)
            if (i < 0 || i >= Count) throw new ArgumentOutOfRangeException(nameof(indices), $"Row {i} is not one of the {Count} rows written.");
        try { _file.Flush(); }
        catch (IOException e) { throw Unwritable(e); }
        var result = empty(new long[] { indices.Count, Dimension }, ScalarType.Float32);
        // Read in file order (sorted), each row straight into its place in the result.
        var order = Enumerable.Range(0, indices.Count).OrderBy(j => indices[j]).ToArray();
        int chunkRows = (int)Math.Max(1, (1 << 26) / RowBytes);
        var chunks = new Tensor[(indices.Count + chunkRows - 1) / chunkRows];
        try
        {
            foreach (int j in order)
            {
                var chunk = chunks[j / chunkRows] ??= result.narrow(0, (long)j / chunkRows * chunkRows, Math.Min(chunkRows, indices.Count - (long)j / chunkRows * chunkRows));
                var target = chunk.bytes.Slice((int)(j % chunkRows * RowBytes), (int)RowBytes);
                long offset = indices[j] * RowBytes;
                for (int read = 0; read < target.Length;)
                {
                    int got = RandomAccess.Read(_file.SafeFileHandle, target[read..], offset + read);
                    if (got == 0) throw new IOException($"The temporary file '{Path}' ended early (row {indices[j]}).");
                    read += got;
                }
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
        finally
        {
            foreach (var chunk in chunks) chunk?.Dispose();
        }
    }

    private VigilInputException Unwritable(Exception e) =>
        new($"Could not write a temporary file in '{_folder}' ({Count:N0} rows of {RowBytes:N0} bytes so far): {e.Message} " +
            "Free disk space there or point TMPDIR to a folder with room, then run again.", e);

    public void Dispose() => _file.Dispose();
}
