using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vigil.Metrics;

/// <summary>
/// Test pixels kept on disk instead of in memory: each image's keys (<see cref="RankedScores.Pack"/>: score and
/// region id, 8 bytes a pixel) are sorted on their own and appended as one run, highest score first, to a
/// <see cref="ScratchFile"/> (nameless while in use, gone when disposed or when the process ends); a sweep merges the
/// runs (k-way, a binary heap over one small buffer per run) into the same descending order and group-by-score
/// callbacks as <see cref="RankedScores.Sweep{T}"/> on one sorted array. Memory is one image's keys while adding and
/// 64 KB per image while sweeping.
/// </summary>
internal sealed class PixelRuns : ISortedKeys, IDisposable
{
    private const int BufferKeys = 8192;
    private readonly List<(long Offset, int Count)> _runs = [];
    private readonly FileStream _file;
    private readonly string _path;

    /// <summary>A new file for the runs inside <paramref name="folder"/> (default: the system's temporary folder).</summary>
    public PixelRuns(string? folder = null)
    {
        try
        {
            _file = ScratchFile.Create("vigil-pixels-", folder, out _path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VigilInputException($"Cannot create a file for the test pixels of the pixel metrics in {folder ?? Path.GetTempPath()} ({e.Message}). Free disk space or point TMPDIR to a writable folder.");
        }
    }

    /// <summary>Sorts <paramref name="keys"/> (the array is reused as scratch) and appends them as one run.</summary>
    public void Add(ulong[] keys)
    {
        if (keys.Length == 0) return;
        var sorted = RankedScores.SortByScore(keys);
        long offset = _file.Position;
        try
        {
            var buffer = new ulong[BufferKeys];
            for (int end = sorted.Length; end > 0; end -= BufferKeys)
            {
                int n = Math.Min(BufferKeys, end);
                for (int j = 0; j < n; j++) buffer[j] = sorted[end - 1 - j]; // descending
                _file.Write(MemoryMarshal.AsBytes(buffer.AsSpan(0, n)));
            }
            _file.Flush();
        }
        catch (IOException e)
        {
            throw new VigilInputException($"Cannot write the test pixels to {_path} ({e.Message}). The pixel metrics need about 8 bytes per test pixel of temporary disk space: free some or point TMPDIR elsewhere.");
        }
        _runs.Add((offset, sorted.Length));
    }

    /// <summary>
    /// Walks all runs merged from the highest score down with the callbacks of <see cref="RankedScores.Sweep{T}"/>;
    /// the order of keys within one score differs from the array's, which only a floating-point sum of payloads sees.
    /// </summary>
    public void Sweep<T>(ref T visitor) where T : struct, ISweepVisitor
    {
        var readers = new RunReader[_runs.Count];
        var heap = new int[_runs.Count]; // run indices, a max-heap by each run's current key
        int size = 0;
        for (int r = 0; r < _runs.Count; r++)
        {
            readers[r] = new RunReader(_file.SafeFileHandle, _runs[r].Offset, _runs[r].Count);
            heap[size++] = r;
        }
        for (int i = size / 2 - 1; i >= 0; i--) SiftDown(heap, size, i, readers);

        long positives = 0, seen = 0;
        while (size > 0)
        {
            ulong high = readers[heap[0]].Current >> 32;
            do // one group of equal scores, across runs
            {
                var reader = readers[heap[0]];
                uint payload = (uint)reader.Current;
                if (payload != 0)
                {
                    positives++;
                    if (visitor.UsesPayload) visitor.OnPositive(payload);
                }
                seen++;
                if (!reader.MoveNext()) heap[0] = heap[--size];
                if (size > 0) SiftDown(heap, size, 0, readers);
            }
            while (size > 0 && readers[heap[0]].Current >> 32 == high);
            if (!visitor.OnThreshold(RankedScores.FromOrderedBits((uint)high), positives, seen - positives)) return;
        }
    }

    private static void SiftDown(int[] heap, int size, int i, RunReader[] readers)
    {
        int run = heap[i];
        ulong key = readers[run].Current;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= size) break;
            if (child + 1 < size && readers[heap[child + 1]].Current > readers[heap[child]].Current) child++;
            if (readers[heap[child]].Current <= key) break;
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = run;
    }

    public void Dispose()
    {
        _runs.Clear();
        _file.Dispose();
    }

    /// <summary>One run read forward through a small buffer (positional reads: the runs share one handle).</summary>
    private sealed class RunReader
    {
        private readonly SafeFileHandle _file;
        private readonly ulong[] _buffer = new ulong[BufferKeys];
        private int _position, _filled;
        private long _offset, _left;

        public RunReader(SafeFileHandle file, long offset, int count)
        {
            (_file, _offset, _left) = (file, offset, count);
            MoveNext();
        }

        public ulong Current { get; private set; }

        public bool MoveNext()
        {
            if (_position == _filled)
            {
                if (_left == 0) return false;
                int n = (int)Math.Min(BufferKeys, _left);
                var bytes = MemoryMarshal.AsBytes(_buffer.AsSpan(0, n));
                for (int read = 0; read < bytes.Length;)
                {
                    int got = RandomAccess.Read(_file, bytes[read..], _offset + read);
                    if (got == 0) throw new IOException($"The test pixel file ended early at byte {_offset + read}.");
                    read += got;
                }
                _offset += bytes.Length;
                _left -= n;
                (_position, _filled) = (0, n);
            }
            Current = _buffer[_position++];
            return true;
        }
    }
}
