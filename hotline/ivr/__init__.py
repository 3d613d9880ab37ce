"""The electronic secretary and the survey (IVR): scripts as data, run over FastAGI."""
