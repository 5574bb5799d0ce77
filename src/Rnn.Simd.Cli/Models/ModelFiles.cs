using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Persistence;

namespace Rnn.Simd.Cli.Models;

/// <summary>
/// The model formats the tool reads and writes: the Rnn.Simd model file (<c>.rnn</c>, any extension) and safetensors
/// (PyTorch state-dict names, <c>.safetensors</c>). A file is told by its content: the Rnn.Simd magic
/// <c>RNNSIMD\0</c>, else safetensors when the name ends in <c>.safetensors</c> or byte 8 is the <c>{</c> that opens a
/// safetensors header; writing picks safetensors for a name ending in <c>.safetensors</c>.
/// </summary>
public static class ModelFiles
{
    /// <summary>The extension that makes <c>train --out</c> write safetensors.</summary>
    public const string SafeTensorsExtension = ".safetensors";

    /// <summary>True when a path names a safetensors file by its extension.</summary>
    public static bool IsSafeTensorsName(string path) => path.EndsWith(SafeTensorsExtension, StringComparison.OrdinalIgnoreCase);

    /// <summary>True when the file's content is safetensors (see the class remarks).</summary>
    public static bool IsSafeTensors(string path)
    {
        Span<byte> head = stackalloc byte[9];
        int n;
        using (var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1))
        {
            n = 0;
            while (n < head.Length)
            {
                int r = f.Read(head.Slice(n));
                if (r == 0) break;
                n += r;
            }
        }
        if (n >= 8 && head.Slice(0, 8).SequenceEqual("RNNSIMD\0"u8)) return false;
        return IsSafeTensorsName(path) || (n == 9 && head[8] == (byte)'{');
    }

    /// <summary>
    /// Opens a model file of either format. For safetensors, the description (forecasting information, Elman
    /// nonlinearity, prefixes) comes from the sidecar <c>FILE.json</c> when it exists, else from the file's metadata.
    /// </summary>
    /// <param name="option">The option that named the file, for messages (e.g. <c>--model</c>).</param>
    /// <param name="path">The file.</param>
    /// <param name="descriptionSource">Where a safetensors file's description came from ("" for an Rnn.Simd file).</param>
    /// <exception cref="CliException">The file does not exist or is a directory.</exception>
    /// <exception cref="InvalidDataException">The file is damaged or foreign; the message starts with the option and path.</exception>
    public static LoadedModel Open(string option, string path, out string descriptionSource)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) throw new CliException($"{option} {path} is a directory, not a model file.");
        if (!File.Exists(path)) throw new CliException($"{option} {path}: the file does not exist.");
        descriptionSource = "";
        try
        {
            if (!IsSafeTensors(path)) return ModelFile.Load(path);
            string sidecar = SafeTensorsModel.SidecarPath(path);
            LoadedModel model = SafeTensorsModel.Load(path);
            descriptionSource = File.Exists(sidecar) ? sidecar : "metadata";
            return model;
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{option} {path}: {e.Message}", e);
        }
    }
}
