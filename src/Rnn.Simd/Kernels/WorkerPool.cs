namespace Rnn.Simd.Kernels;

/// <summary>A unit of parallel work: <see cref="Execute"/> is called once for every index of a run.</summary>
internal interface IParallelJob
{
    void Execute(int index);
}

/// <summary>
/// A small fixed pool of background worker threads for kernels (no Task, no closure, no allocation per run).
/// The calling thread takes part in the work. A run that finds the pool busy with another caller's run executes all
/// of its items on its own thread, so nested or concurrent callers never deadlock; the items' results must not depend
/// on which thread runs them (GEMM partitions over output blocks, so they do not).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The process-wide pool lives as long as the process; its background threads and their wait handles are never torn down.")]
internal sealed class WorkerPool
{
    /// <summary>The process-wide pool, one worker per core beyond the caller's.</summary>
    public static WorkerPool Shared => s_shared ??= Create();
    private static WorkerPool? s_shared;
    private static readonly object s_createLock = new();

    private readonly object _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ManualResetEventSlim _workersDone = new(false);
    private readonly int _workers;
    private IParallelJob? _job;
    private int _count;
    private int _next;
    private int _pendingWorkers;

    private WorkerPool(int workers)
    {
        _workers = workers;
        _ = _workersDone.WaitHandle; // create the kernel event now, not on the first blocking wait (which would allocate then)
        for (int i = 0; i < workers; i++)
        {
            var thread = new Thread(WorkerLoop) { IsBackground = true, Name = $"Rnn.Simd worker {i + 1}" };
            thread.Start();
        }
    }

    /// <summary>The most threads a run can use: the workers plus the caller.</summary>
    public int MaxDegreeOfParallelism => _workers + 1;

    private static WorkerPool Create()
    {
        lock (s_createLock)
        {
            return s_shared ?? new WorkerPool(Math.Max(0, Environment.ProcessorCount - 1));
        }
    }

    /// <summary>Runs <c>job.Execute(i)</c> for every i in [0, count) on the caller and up to count - 1 workers, and returns when all are done.</summary>
    public void Run(IParallelJob job, int count)
    {
        if (count <= 0) return;
        if (count == 1 || _workers == 0 || !Monitor.TryEnter(_gate))
        {
            for (int i = 0; i < count; i++) job.Execute(i);
            return;
        }
        try
        {
            int wake = Math.Min(_workers, count - 1);
            _job = job;
            _count = count;
            _pendingWorkers = wake;
            _workersDone.Reset();
            Volatile.Write(ref _next, 0);
            _wake.Release(wake);
            Drain(job);
            // Every released worker signals once it has left Drain, so no worker still touches this run's state when
            // the next run sets it up.
            _workersDone.Wait();
            _job = null;
        }
        finally
        {
            Monitor.Exit(_gate);
        }
    }

    private void Drain(IParallelJob job)
    {
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < _count) job.Execute(i);
    }

    private void WorkerLoop()
    {
        // Allocate this thread's GEMM packing buffers now, not on whichever later run it first joins, so that
        // steady-state runs allocate nothing on any thread.
        GemmCore.GemmScratch<float>.ForCurrentThread();
        GemmCore.GemmScratch<double>.ForCurrentThread();
        while (true)
        {
            _wake.Wait();
            try
            {
                Drain(Volatile.Read(ref _job)!);
            }
            finally
            {
                if (Interlocked.Decrement(ref _pendingWorkers) == 0) _workersDone.Set();
            }
        }
    }
}
