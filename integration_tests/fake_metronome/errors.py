"""How the fake refuses a request: a status and Metronome's `{"message": ...}` body."""


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message
