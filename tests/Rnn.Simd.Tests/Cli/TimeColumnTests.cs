using System.Globalization;
using System.Text;
using System.Text.Json;
using Rnn.Simd.Cli.Train;
using Rnn.Simd.Forecasting;
using static Rnn.Simd.Tests.Cli.CliSeries;

namespace Rnn.Simd.Tests.Cli;

/// <summary>
/// <c>rnn-simd train</c> on files with a time column (the fixtures of Cli/Fixtures, synthetic series with known
/// seasons): the sampling period, the detected seasons, the baselines at every detected period with ETS, the best
/// baseline and the skill; bad timestamps as one-line errors naming the line. Tiny budgets: nothing here asserts model
/// quality; baselines are checked against values computed here from the file.
/// </summary>
public class TimeColumnTests
{
    private static readonly string[] Small = ["--epochs", "1", "--hidden", "4", "--batch", "4", "--window", "24", "-q"];

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Cli", "Fixtures", name);

    private static (int Code, string Out, string Err) Train(params string[] args) => Run(["train", .. Small, .. args]);

    private static JsonElement TrainJson(out JsonDocument doc, params string[] args)
    {
        (int code, string stdout, string stderr) = Train([.. args, "--json"]);
        Assert.True(code == 0, stderr);
        doc = JsonDocument.Parse(stdout);
        return doc.RootElement;
    }

    private static int[] Periods(JsonElement root) =>
        root.GetProperty("seasons").GetProperty("periods").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    private static double[] Column(string file, int column)
    {
        string[] lines = File.ReadAllLines(file);
        return lines.Skip(1).Select(l => double.Parse(l.Split(',')[column], CultureInfo.InvariantCulture)).ToArray();
    }

    // NRMSE of ŷ[s] = y[s - lag] over the test part's targets s (single step): RMSE / population std of the targets.
    private static double SeasonalNaiveNrmse(double[] y, int testLength, int lag)
    {
        double sse = 0, sum = 0, sum2 = 0;
        int n = 0;
        for (int s = y.Length - testLength; s < y.Length; s++)
        {
            float target = (float)y[s], forecast = (float)y[s - lag];
            sse += (target - (double)forecast) * (target - (double)forecast);
            sum += target;
            sum2 += (double)target * target;
            n++;
        }
        double mean = sum / n;
        return Math.Sqrt(sse / n / (sum2 / n - mean * mean));
    }

    private static void AssertBestAndSkill(JsonElement root)
    {
        JsonElement best = root.GetProperty("bestBaseline");
        double min = root.GetProperty("validationBaselines").EnumerateArray().Min(b => b.GetProperty("nrmse").GetDouble());
        Assert.Equal(min, best.GetProperty("validationNrmse").GetDouble());
        // skill = 1 - model / best, up to the rounding of the three printed figures.
        JsonElement model = root.GetProperty("test").GetProperty("nrmse"), b = best.GetProperty("nrmse"), skill = root.GetProperty("skill");
        double ratio = model.GetDouble() / b.GetDouble();
        double bound = PrintedFigures.HalfUnit(skill) + (PrintedFigures.HalfUnit(model) + Math.Abs(ratio) * PrintedFigures.HalfUnit(b)) / (b.GetDouble() - PrintedFigures.HalfUnit(b));
        Assert.True(Math.Abs(1 - ratio - skill.GetDouble()) <= bound, $"skill {skill} vs 1 - {model} / {b}");
    }

    [Fact]
    public void HalfHourly_DayAndWeekDetected_BaselinesAtBothLags_EtsAtBoth_BestAndSkill()
    {
        string file = Fixture("halfhourly-load.csv");
        JsonElement root = TrainJson(out JsonDocument doc, "--data", file, "--column", "load", "--horizon", "48");
        using (doc)
        {
            Assert.Equal("30 minutes", root.GetProperty("samplingPeriod").GetString());
            Assert.Equal("timestamp", root.GetProperty("timeColumn").GetString());
            Assert.Equal("2024-01-01T00:00:00", root.GetProperty("start").GetString());
            Assert.Equal("detected", root.GetProperty("seasons").GetProperty("source").GetString());
            Assert.Equal([48, 336], Periods(root));
            JsonElement[] baselines = root.GetProperty("baselines").EnumerateArray().ToArray();
            Assert.Equal([48, 48, 336], baselines.Select(b => b.GetProperty("lag").GetInt32()));
            int testLength = root.GetProperty("split").GetProperty("test").GetInt32();
            double[] load = Column(file, 1);
            Assert.Equal(SeasonalNaiveNrmse(load, testLength, 336), baselines[2].GetProperty("nrmse").GetDouble(), 1e-5);
            Assert.Equal(SeasonalNaiveNrmse(load, testLength, 48), baselines[0].GetProperty("nrmse").GetDouble(), 1e-5);
            Assert.Equal([48, 336], root.GetProperty("ets").EnumerateArray().Select(e => e.GetProperty("season").GetInt32()));
            AssertBestAndSkill(root);
            // On this series the weekly season is what a forecast needs: the best baseline is one at lag 336.
            Assert.Equal(336, root.GetProperty("bestBaseline").GetProperty("lag").GetInt32());
        }
    }

    [Fact]
    public void Daily_WeekAndYearDetected()
    {
        JsonElement root = TrainJson(out JsonDocument doc, "--data", Fixture("daily-ridership.csv"), "--horizon", "7");
        using (doc)
        {
            Assert.Equal("1 day", root.GetProperty("samplingPeriod").GetString());
            Assert.Equal([7, 365], Periods(root));
            Assert.Contains(365, root.GetProperty("baselines").EnumerateArray().Select(b => b.GetProperty("lag").GetInt32()));
            AssertBestAndSkill(root);
        }
    }

    [Fact]
    public void Monthly_YearMonth_YearDetected_AndASlowCycleIsNotAYear()
    {
        JsonElement co2 = TrainJson(out JsonDocument d1, "--data", Fixture("monthly-co2.csv"), "--horizon", "1");
        using (d1)
        {
            Assert.Equal("1 month", co2.GetProperty("samplingPeriod").GetString());
            Assert.Equal([12], Periods(co2));
            Assert.Equal("ETS(A,Ad,A) m=12", co2.GetProperty("ets")[0].GetProperty("name").GetString());
        }
        JsonElement sun = TrainJson(out JsonDocument d2, "--data", Fixture("monthly-sunspots.csv"), "--horizon", "1");
        using (d2)
        {
            Assert.Empty(Periods(sun));
            JsonElement year = Assert.Single(sun.GetProperty("seasons").GetProperty("candidates").EnumerateArray().ToArray());
            Assert.False(year.GetProperty("confirmed").GetBoolean());
            // No season: persistence and the non-seasonal ETS(A,Ad,N).
            Assert.Single(sun.GetProperty("baselines").EnumerateArray().ToArray());
            Assert.Equal("ETS(A,Ad,N)", Assert.Single(sun.GetProperty("ets").EnumerateArray().ToArray()).GetProperty("name").GetString());
        }
    }

    [Fact]
    public void Table_NamesTheBestBaseline_TheSkill_AndThePeriod()
    {
        (int code, string stdout, string stderr) = Train("--data", Fixture("monthly-co2.csv"), "--horizon", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("ETS(A,Ad,A) m=12", stdout, StringComparison.Ordinal);
        Assert.Contains(" *", stdout, StringComparison.Ordinal);
        Assert.Contains("* best baseline on validation:", stdout, StringComparison.Ordinal);
        Assert.Contains("1 - NRMSE_model / NRMSE_best", stdout, StringComparison.Ordinal);
        Assert.Contains("Sampling period 1 month, from 1960-01-01 00:00 (time column 'month')", stdout, StringComparison.Ordinal);
        Assert.Contains("year 12 confirmed", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void SeasonsOption_StillOverrides()
    {
        JsonElement root = TrainJson(out JsonDocument doc, "--data", Fixture("halfhourly-load.csv"), "--column", "load", "--horizon", "48", "--seasons", "96");
        using (doc)
        {
            Assert.Equal("given", root.GetProperty("seasons").GetProperty("source").GetString());
            Assert.Equal([48, 96], root.GetProperty("baselines").EnumerateArray().Select(b => b.GetProperty("lag").GetInt32()));
        }
    }

    // An hourly file "time,load" of n rows from 2024-01-01, load = CliSeries.Value, with the rows' times edited.
    private static string Hourly(int n, Func<int, DateTime, string>? time = null, IReadOnlySet<int>? skip = null)
    {
        var s = new StringBuilder("time,load\n");
        for (int t = 0; t < n; t++)
        {
            if (skip?.Contains(t) == true) continue;
            DateTime at = new DateTime(2024, 1, 1).AddHours(t);
            s.Append(time?.Invoke(t, at) ?? at.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture))
             .Append(CultureInfo.InvariantCulture, $",{Value(t):F4}\n");
        }
        return s.ToString();
    }

    [Fact]
    public void Gaps_AreAnError_OrFilledLinearly_AndReported()
    {
        using var dir = new TempDir();
        string path = dir.Write("gap.csv", Hourly(1200, skip: new HashSet<int> { 500, 501, 502 }));
        (int code, string stdout, string stderr) = Train("--data", path);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        string line = SingleErrorLine(stderr);
        // Row 500 of the file (0-based, after the header) is hour 503, on line 502.
        Assert.Contains("gap.csv, line 502, time column 'time'", line, StringComparison.Ordinal);
        Assert.Contains("3 step(s) of 1 hour are missing", line, StringComparison.Ordinal);
        Assert.Contains("--fill-gaps linear", line, StringComparison.Ordinal);

        JsonElement root = TrainJson(out JsonDocument doc, "--data", path, "--fill-gaps", "linear");
        using (doc)
        {
            Assert.Equal(3, root.GetProperty("filledTimeSteps").GetInt32());
            Assert.Equal(1200, root.GetProperty("length").GetInt32());
            Assert.Equal("1 hour", root.GetProperty("samplingPeriod").GetString());
            Assert.Equal([24, 168], Periods(root));
        }
    }

    [Fact]
    public void UnixSeconds_CustomFormat_AndOffsetsAcrossDaylightSaving()
    {
        using var dir = new TempDir();
        string unix = dir.Write("unix.csv", Hourly(1200, (t, at) => new DateTimeOffset(at, TimeSpan.Zero).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));
        JsonElement root = TrainJson(out JsonDocument d1, "--data", unix);
        using (d1) Assert.Equal("1 hour", root.GetProperty("samplingPeriod").GetString());

        string custom = dir.Write("custom.csv", Hourly(1200, (t, at) => at.ToString("dd/MM/yyyy HH:mm", CultureInfo.InvariantCulture)));
        root = TrainJson(out JsonDocument d2, "--data", custom, "--time-format", "dd/MM/yyyy HH:mm");
        using (d2) Assert.Equal("2024-01-01T00:00:00", root.GetProperty("start").GetString());

        // Paris time across the end of summer time 2024-10-27: the clock repeats 02:00-03:00 with another offset.
        string dst = dir.Write("dst.csv", Hourly(1200, (t, at) =>
        {
            DateTimeOffset utc = new DateTimeOffset(2024, 10, 20, 0, 0, 0, TimeSpan.Zero).AddHours(t);
            TimeSpan offset = utc < new DateTimeOffset(2024, 10, 27, 1, 0, 0, TimeSpan.Zero) ? TimeSpan.FromHours(2) : TimeSpan.FromHours(1);
            return utc.ToOffset(offset).ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
        }));
        root = TrainJson(out JsonDocument d3, "--data", dst);
        using (d3)
        {
            Assert.Equal("1 hour", root.GetProperty("samplingPeriod").GetString());
            Assert.Equal(0, root.GetProperty("filledTimeSteps").GetInt32());
        }
    }

    [Theory]
    // name, how the file is edited, extra arguments, expected message fragments ('|'-separated)
    [InlineData("unsorted", "--fill-gaps linear", "line 13, time column 'time'|earlier than the row before|sorted")]
    [InlineData("duplicate", "--fill-gaps linear", "line 22, time column 'time'|repeats the row before")]
    [InlineData("irregular", "", "line 32, time column 'time'|not a whole number of sampling periods (1 hour)")]
    [InlineData("unparsable", "", "line 42, time column 'time'|'2024-01-02T99:00:00' is not a time")]
    [InlineData("plain", "--time-column nope", "no column 'nope'")]
    [InlineData("plain", "--time-column load --column load", "--time-column 'load' and --column name the same column")]
    [InlineData("plain", "--time-format dd.MM.yyyy", "line 2, time column 'time'|does not match --time-format dd.MM.yyyy")]
    [InlineData("plain", "--seasons 24,500", "--seasons 500 is longer than a third of the training part (840 steps)")]
    public void BadTimestamps_OneLineError_NamingTheLine(string kind, string extra, string fragments)
    {
        using var dir = new TempDir();
        string text = kind switch
        {
            "unsorted" => Hourly(1200, (t, at) => (t switch { 10 => at.AddHours(1), 11 => at.AddHours(-1), _ => at }).ToString("s", CultureInfo.InvariantCulture)),
            "duplicate" => Hourly(1200, (t, at) => (t == 20 ? at.AddHours(-1) : at).ToString("s", CultureInfo.InvariantCulture)),
            "irregular" => Hourly(1200, (t, at) => (t == 30 ? at.AddMinutes(20) : at).ToString("s", CultureInfo.InvariantCulture)),
            "unparsable" => Hourly(1200, (t, at) => t == 40 ? "2024-01-02T99:00:00" : at.ToString("s", CultureInfo.InvariantCulture)),
            _ => Hourly(1200),
        };
        string path = dir.Write(kind + ".csv", text);
        (int code, string stdout, string stderr) = Train(["--data", path, .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        Assert.True(code == 1, $"exit {code}: {stderr}");
        Assert.Equal("", stdout);
        string line = SingleErrorLine(stderr);
        foreach (string fragment in fragments.Split('|'))
            Assert.Contains(fragment, line, StringComparison.Ordinal);
    }

    [Fact]
    public void PhaseFeatures_BecomeCalendarFeatures_AndTheModelFileEvaluatesTheSame()
    {
        using var dir = new TempDir();
        string path = dir.Write("hourly.csv", Hourly(1200, (t, at) => at.AddHours(5).ToString("s", CultureInfo.InvariantCulture)));
        string model = dir.File("m.rnn");
        JsonElement root = TrainJson(out JsonDocument doc, "--data", path, "--features", "value,day,week,lag24", "--out", model);
        using (doc)
        {
            Assert.Equal("value,hourofday,dayofweek,lag24", root.GetProperty("features").GetString());
            (int code, string stdout, string stderr) = Run("evaluate", "--model", model, "--data", path, "--json", "-q");
            Assert.True(code == 0, stderr);
            using JsonDocument eval = JsonDocument.Parse(stdout);
            Assert.Equal(root.GetProperty("test").GetProperty("nrmse").GetRawText(), eval.RootElement.GetProperty("metrics").GetProperty("nrmse").GetRawText());
        }
        (int c2, string o2, string e2) = Run(["train", .. Small, "--features", "value,hourofday"]);
        Assert.Equal(1, c2);
        Assert.Equal("", o2);
        Assert.Contains("calendar features read timestamps, and the embedded data has none", SingleErrorLine(e2), StringComparison.Ordinal);
    }

    [Fact]
    public void TimeOptions_WithoutData_AreUsageErrors()
    {
        (int code, _, string stderr) = Run("train", "--time-column", "time");
        Assert.Equal(2, code);
        Assert.Contains("--time-column applies to --data FILE", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void EmbeddedData_HourlyPeriod_DayAndWeekConfirmedOnTheTrainingPart()
    {
        LoadedSeries data = SeriesSource.LoadEmbedded();
        Assert.Equal("1 hour", data.Period!.Value.ToString());
        ForecastDataset dataset = ForecastDataset.Create(data.Series, new ForecastOptions(24), data.Mask);
        float[] train = data.Series.GetColumn(0)[..dataset.Split.Train.End];
        Assert.Equal([24, 168], SeasonDetector.DetectPeriods(train, data.Period.Value));
    }
}
