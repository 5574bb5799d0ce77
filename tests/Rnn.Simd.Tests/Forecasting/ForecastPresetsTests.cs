using Rnn.Simd.Forecasting;
using Rnn.Simd.Training.Bptt;

namespace Rnn.Simd.Tests.Forecasting;

public class ForecastPresetsTests
{
    [Fact]
    public void AceaHourly_IsConsistent()
    {
        ForecastPreset p = ForecastPresets.AceaHourly;
        ForecastOptions options = p.CreateOptions();
        Assert.Equal(24, options.Horizon);
        Assert.Equal(p.Features, options.Features);
        Assert.Equal(p.Features, FeatureSpec.Parse(p.Features.ToString()));
        var arch = p.CreateArchitecture();
        Assert.Equal(options.InputSize(1), arch.InputSize);
        Assert.Equal(p.Features.InputSize(1, 1), arch.InputSize);
        Assert.Equal(1, arch.OutputSize);
        Assert.Equal(p.HiddenSize, arch.TopHiddenSize);
        var trainer = p.CreateTrainerOptions(5);
        trainer.Validate();
        Assert.Equal(BpttSchedule.Default(p.Window), trainer.Bptt);
        Assert.Equal(p.DropoutOutput, trainer.Dropout.Output);
        if (p.DropoutOutput > 0) Assert.Equal(5UL, trainer.Dropout.Seed); // the masks follow the run's seed
    }
}
