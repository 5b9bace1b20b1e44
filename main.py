from source_metronome.run import run

if __name__ == "__main__":
    run()
