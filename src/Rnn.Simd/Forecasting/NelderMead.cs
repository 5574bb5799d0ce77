namespace Rnn.Simd.Forecasting;

/// <summary>
/// Derivative-free minimisation by the Nelder-Mead simplex (Nelder &amp; Mead 1965; the coefficients of Lagarias et al.
/// 1998: reflection 1, expansion 2, contraction 1/2, shrink 1/2). Deterministic: the same start gives the same result.
/// </summary>
internal static class NelderMead
{
    /// <summary>Minimises <paramref name="f"/> from <paramref name="start"/> with an initial simplex of edge <paramref name="step"/>; returns the best point and value.</summary>
    public static (double[] Point, double Value) Minimize(Func<double[], double> f, double[] start, double step, int maxEvaluations, double tolerance)
    {
        int n = start.Length;
        var points = new double[n + 1][];
        var values = new double[n + 1];
        for (int i = 0; i <= n; i++)
        {
            points[i] = (double[])start.Clone();
            if (i > 0) points[i][i - 1] += step;
            values[i] = f(points[i]);
        }
        int evaluations = n + 1;
        var centroid = new double[n];
        var trial = new double[n];
        var trial2 = new double[n];
        while (evaluations < maxEvaluations)
        {
            Sort(points, values);
            if (Math.Abs(values[n] - values[0]) <= tolerance * (Math.Abs(values[0]) + tolerance)) break;
            Array.Clear(centroid);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) centroid[j] += points[i][j] / n;
            Along(centroid, points[n], -1, trial);                    // reflection: c + (c - worst)
            double fr = f(trial);
            evaluations++;
            if (fr < values[0])
            {
                Along(centroid, points[n], -2, trial2);               // expansion: c + 2 (c - worst)
                double fe = f(trial2);
                evaluations++;
                if (fe < fr) Replace(points, values, n, trial2, fe);
                else Replace(points, values, n, trial, fr);
                continue;
            }
            if (fr < values[n - 1])
            {
                Replace(points, values, n, trial, fr);
                continue;
            }
            bool outside = fr < values[n];
            Along(centroid, outside ? trial : points[n], 0.5, trial2); // contraction towards c, outside or inside
            double fc = f(trial2);
            evaluations++;
            if (fc < (outside ? fr : values[n]))
            {
                Replace(points, values, n, trial2, fc);
                continue;
            }
            for (int i = 1; i <= n; i++)                               // shrink towards the best
            {
                for (int j = 0; j < n; j++) points[i][j] = points[0][j] + 0.5 * (points[i][j] - points[0][j]);
                values[i] = f(points[i]);
                evaluations++;
            }
        }
        Sort(points, values);
        return (points[0], values[0]);
    }

    // result = c + t (p - c)
    private static void Along(double[] c, double[] p, double t, double[] result)
    {
        for (int j = 0; j < c.Length; j++) result[j] = c[j] + t * (p[j] - c[j]);
    }

    private static void Replace(double[][] points, double[] values, int i, double[] point, double value)
    {
        Array.Copy(point, points[i], point.Length);
        values[i] = value;
    }

    // Insertion sort by value (NaN last), stable, so that ties keep their order.
    private static void Sort(double[][] points, double[] values)
    {
        for (int i = 1; i < values.Length; i++)
        {
            double v = values[i];
            double[] p = points[i];
            int k = i - 1;
            while (k >= 0 && Greater(values[k], v))
            {
                values[k + 1] = values[k];
                points[k + 1] = points[k];
                k--;
            }
            values[k + 1] = v;
            points[k + 1] = p;
        }
    }

    private static bool Greater(double a, double b) => double.IsNaN(a) ? !double.IsNaN(b) : a > b;
}
