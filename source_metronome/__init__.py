from source_metronome.source import SourceMetronome

__all__ = ["SourceMetronome"]
