#!/usr/bin/env python3
"""Cuts the CSVs of `strata generate` into the files that would arrive month by month.

The drop for as-of day T (the first day of a month) holds the events of the month before T (members by
registration day, transactions by transaction day, user logs by day) and the labels of the month two
before T: a label of cutoff M says whether an expiry in M renewed within 30 days, known by the start of
M+2. The first drop also holds everything older. Rows keep their order in the source files (ingest's
tie rule: among equal keys, the row ingested last wins).

    loop_months.py DATA_DIR OUT_DIR FIRST_AS_OF LAST_AS_OF
writes OUT_DIR/YYYY-MM-DD/{members,transactions,user_logs,labels}-YYYY-MM-DD.csv for each as-of day.
"""
import csv
import datetime
import os
import sys

TIME_COLUMN = {"members": "registration_init_time", "transactions": "transaction_date", "user_logs": "date", "labels": "cutoff_date"}


def month_index(yyyymmdd: int) -> int:
    return (yyyymmdd // 10000) * 12 + (yyyymmdd // 100 % 100) - 1


def as_of_days(first: datetime.date, last: datetime.date):
    day = first
    while day <= last:
        yield day
        day = datetime.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def main() -> None:
    data, out, first, last = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    first_day = datetime.date.fromisoformat(first)
    last_day = datetime.date.fromisoformat(last)
    days = list(as_of_days(first_day, last_day))
    if not days or first_day.day != 1:
        sys.exit("loop_months.py: FIRST_AS_OF must be the first day of a month, not after LAST_AS_OF")
    index_of = {d.year * 12 + d.month - 1: d for d in days}
    first_index = days[0].year * 12 + days[0].month - 1
    for table, column in TIME_COLUMN.items():
        writers = {}
        files = []
        with open(os.path.join(data, table + ".csv"), newline="") as source:
            reader = csv.reader(source)
            header = next(reader)
            position = header.index(column)
            lag = 2 if table == "labels" else 1
            for row in reader:
                # The as-of month whose drop carries this row.
                target = month_index(int(row[position])) + lag
                if target > days[-1].year * 12 + days[-1].month - 1:
                    continue
                target = max(target, first_index)
                day = index_of[target]
                if day not in writers:
                    folder = os.path.join(out, day.isoformat())
                    os.makedirs(folder, exist_ok=True)
                    handle = open(os.path.join(folder, f"{table}-{day.isoformat()}.csv"), "w", newline="")
                    files.append(handle)
                    writers[day] = csv.writer(handle, lineterminator="\n")
                    writers[day].writerow(header)
                writers[day].writerow(row)
        for handle in files:
            handle.close()
    for day in days:
        print(day.isoformat())


if __name__ == "__main__":
    main()
