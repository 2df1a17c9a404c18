"""Activity files of formats runhub does not read are refused naming the format, so that a runner
with a lifetime's folder knows to export those runs as FIT, TCX or GPX. A Polar HRM file, whose
first "[" made it "malformed JSON", and XML whose root says which app wrote it, where the refusal
said only "neither TCX nor GPX". Heads written here after each format's own layout."""

from __future__ import annotations

import pytest

from runhub import formats
from runhub.formats import FormatError, NotAnActivity

HRM = b"[Params]\r\nVersion=106\r\nMonitor=34\r\nSMode=000000000\r\nDate=20120808\r\n\r\n[HRData]\r\n93\r\n94\r\n"


@pytest.mark.parametrize(("data", "named"), [
    (HRM, "a Polar HRM file"),
    (HRM.replace(b"\r\n", b"\n"), "a Polar HRM file"),
    (b'<?xml version="1.0"?>\n<polar-exercise-data xmlns="http://www.polarpersonaltrainer.com"><calendar-items/>'
     b"</polar-exercise-data>", "Polar Personal Trainer's XML export"),
    (b'<?xml version="1.0" encoding="utf-8"?>\n<sml xmlns="http://www.suunto.com/schemas/sml"><DeviceLog/></sml>',
     "Suunto's SML"),
    (b'<?xml version="1.0"?><pwx xmlns="http://www.peaksware.com/PWX/1/0" version="1.0"><workout/></pwx>',
     "TrainingPeaks' PWX"),
    (b'<?xml version="1.0"?><FitnessWorkbook xmlns="http://www.zonefivesoftware.com/xmlschemas/FitnessLogbook/v2">'
     b"</FitnessWorkbook>", "SportTracks' FITLOG"),
], ids=["hrm-crlf", "hrm-lf", "polar-xml", "suunto-sml", "pwx", "fitlog"])
def test_a_file_of_a_format_runhub_does_not_read_is_refused_by_its_name(data, named):
    with pytest.raises(FormatError) as caught:
        formats.decode(data, filename="old.dat")
    assert not isinstance(caught.value, NotAnActivity)  # a run left behind: a failure, not a skip
    assert named in str(caught.value)
    assert "import the run's FIT, TCX or GPX" in str(caught.value)


def test_a_json_array_is_still_json():
    with pytest.raises(FormatError) as caught:
        formats.decode(b'[{"activityType": "running"}]', filename="runs.json")
    assert "HRM" not in str(caught.value)
