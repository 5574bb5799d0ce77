using System.Numerics;
using Rnn.Simd.Training;

namespace Rnn.Simd.Persistence;

/// <summary>
/// Checkpoint files for a <see cref="Trainer{T}"/>: the trainer captures and restores a <see cref="TrainerState"/>
/// and knows no file; these wire it to <see cref="TrainingCheckpoint"/> from above. (For checkpoints written
/// automatically during training, set <see cref="TrainerOptions.CheckpointCallback"/> to
/// <see cref="TrainingCheckpoint.ToFile(string)"/>.)
/// </summary>
public static class TrainerCheckpointExtensions
{
    /// <summary>
    /// Writes a training checkpoint of the state at the end of the epoch just completed
    /// (<see cref="Trainer{T}.CaptureState"/>) to a file, atomically (temporary file, flush, rename). Resuming from it
    /// with <see cref="Fit{T}(Trainer{T}, SequenceData{T}, SequenceData{T}?, string, CancellationToken)"/> gives
    /// bitwise the same result as training on uninterrupted.
    /// </summary>
    /// <remarks>Valid only at an epoch boundary: from an <see cref="Trainer{T}.EpochCompleted"/> handler.</remarks>
    /// <exception cref="InvalidOperationException">Called outside an <see cref="Trainer{T}.EpochCompleted"/> handler.</exception>
    /// <exception cref="NotSupportedException">The learning-rate schedule is a user-defined class whose state a checkpoint cannot capture.</exception>
    public static void SaveCheckpoint<T>(this Trainer<T> trainer, string path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentException.ThrowIfNullOrEmpty(path);
        new TrainingCheckpoint(trainer.CaptureState()).Save(path);
    }

    /// <summary>Writes a training checkpoint to a stream (from its current position; not closed).</summary>
    /// <inheritdoc cref="SaveCheckpoint{T}(Trainer{T}, string)"/>
    public static void SaveCheckpoint<T>(this Trainer<T> trainer, Stream stream) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(stream);
        new TrainingCheckpoint(trainer.CaptureState()).Save(stream);
    }

    /// <summary>
    /// Resumes training from a checkpoint file written with this trainer's options (see
    /// <see cref="Trainer{T}.Fit(SequenceData{T}, SequenceData{T}?, TrainerState, CancellationToken)"/>, which this
    /// calls with the file's <see cref="TrainingCheckpoint.State"/>).
    /// </summary>
    /// <param name="trainer">The trainer to resume.</param>
    /// <param name="train">The same training series as before the checkpoint.</param>
    /// <param name="validation">The same validation series (or null, as before).</param>
    /// <param name="resumeFrom">The checkpoint file.</param>
    /// <param name="cancellationToken">As in <see cref="Trainer{T}.Fit(SequenceData{T}, SequenceData{T}?, CancellationToken)"/>.</param>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid checkpoint.</exception>
    /// <exception cref="ArgumentException">The checkpoint was written with other options, another architecture or element type, or other data.</exception>
    public static TrainingResult Fit<T>(this Trainer<T> trainer, SequenceData<T> train, SequenceData<T>? validation, string resumeFrom, CancellationToken cancellationToken = default)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentException.ThrowIfNullOrEmpty(resumeFrom);
        return trainer.Fit(train, validation, TrainingCheckpoint.Load(resumeFrom).State, cancellationToken);
    }

    /// <summary>Resumes training from a loaded checkpoint.</summary>
    /// <inheritdoc cref="Fit{T}(Trainer{T}, SequenceData{T}, SequenceData{T}?, string, CancellationToken)"/>
    public static TrainingResult Fit<T>(this Trainer<T> trainer, SequenceData<T> train, SequenceData<T>? validation, TrainingCheckpoint resumeFrom, CancellationToken cancellationToken = default)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(resumeFrom);
        return trainer.Fit(train, validation, resumeFrom.State, cancellationToken);
    }
}
