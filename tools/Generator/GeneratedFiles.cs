using System.Text;

namespace Coderd.Database.Generator;

/// <summary>Writes generated text the same way every time, and only when it changed.</summary>
internal static class GeneratedFiles
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>LF line endings and exactly one final newline, as UTF-8 without BOM.</summary>
    public static byte[] ToBytes(string text)
    {
        var normalized = text.ReplaceLineEndings("\n").TrimEnd('\n') + "\n";
        return Utf8NoBom.GetBytes(normalized);
    }

    /// <summary>
    /// Writes <paramref name="text"/> to <paramref name="path"/> (creating its folder) unless the
    /// file already holds exactly those bytes, so an unchanged file keeps its timestamp.
    /// </summary>
    /// <returns>Whether the file was written.</returns>
    public static async Task<bool> WriteIfChangedAsync(string path, string text, CancellationToken cancellationToken)
    {
        var bytes = ToBytes(text);
        if (File.Exists(path) && (await File.ReadAllBytesAsync(path, cancellationToken)).AsSpan().SequenceEqual(bytes))
        {
            return false;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Write beside and rename, so an interrupted run never leaves half a file behind.
        var temporary = path + ".tmp";
        await File.WriteAllBytesAsync(temporary, bytes, cancellationToken);
        File.Move(temporary, path, overwrite: true);
        return true;
    }
}
