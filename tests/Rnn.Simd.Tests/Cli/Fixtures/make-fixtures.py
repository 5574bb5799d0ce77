# Writes the synthetic CSV fixtures of TimeColumnTests (python3 make-fixtures.py); deterministic (seeded, 3 decimals).
import datetime, math, random

random.seed(14)

def noise(a):
    return a * (random.random() - 0.5)

# Half-hourly load, 6 weeks from Monday 2024-01-01: daily cycle (48 steps) and a weekend drop (336 steps).
with open("halfhourly-load.csv", "w") as f:
    f.write("timestamp,load,temperature\n")
    t0 = datetime.datetime(2024, 1, 1)
    for i in range(48 * 7 * 6):
        t = t0 + datetime.timedelta(minutes=30 * i)
        v = 100 + 20 * math.sin(2 * math.pi * i / 48) + (-15 if t.weekday() >= 5 else 0) + noise(4)
        f.write(f"{t:%Y-%m-%dT%H:%M:%S},{v:.3f},{10 + 5 * math.sin(2 * math.pi * i / 48 - 1):.2f}\n")

# Daily ridership, 3 years from 2015-01-01: a week (7) and a year (365).
with open("daily-ridership.csv", "w") as f:
    f.write("date,riders\n")
    t0 = datetime.date(2015, 1, 1)
    for i in range(365 * 3):
        t = t0 + datetime.timedelta(days=i)
        v = 1000 + 300 * math.sin(2 * math.pi * i / 365) + (-400 if t.weekday() >= 5 else 0) + noise(60)
        f.write(f"{t:%Y-%m-%d},{v:.1f}\n")

# Monthly CO2-like, 30 years from 1960-01 (yyyy-MM): a trend and a year (12).
with open("monthly-co2.csv", "w") as f:
    f.write("month,co2\n")
    for i in range(360):
        v = 315 + 0.12 * i + 3 * math.sin(2 * math.pi * i / 12) + noise(0.6)
        f.write(f"{1960 + i // 12}-{i % 12 + 1:02d},{v:.3f}\n")

# Monthly sunspot-like, 50 years: an 11-year cycle and no yearly season.
with open("monthly-sunspots.csv", "w") as f:
    f.write("date,sunspots\n")
    for i in range(600):
        v = 60 + 50 * math.sin(2 * math.pi * i / 132) + noise(20)
        f.write(f"{1900 + i // 12}-{i % 12 + 1:02d}-01,{max(v, 0):.1f}\n")
