"""Command-line surface: flags derived from the settings, and Pipecat's log filter."""

import pytest

from voxswitch.cli import _build_parser, _pipecat_record_wanted


def test_every_per_session_vad_stop_warning_is_dropped_and_nothing_else():
    noisy = {
        "name": "pipecat.turns.user_stop.speech_timeout_user_turn_stop_strategy",
        "message": "VAD stop_secs (0.3s) differs from the recommended default (0.2s). ...",
    }
    assert not _pipecat_record_wanted(noisy)
    assert _pipecat_record_wanted({**noisy, "message": "something else went wrong"})
    assert _pipecat_record_wanted({**noisy, "name": "pipecat.services.stt_service"})


def test_a_choice_setting_is_a_flag_with_choices():
    parser = _build_parser()
    args = parser.parse_args(["serve", "--turn-detection", "smart-turn"])
    assert args.turn_detection == "smart-turn"
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--turn-detection", "sometimes"])
