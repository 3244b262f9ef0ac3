from nbswarm import Agent
import time

class StreamLogger:
    def __init__(self, log_file: str):
        self.log_file = log_file
        self.tokens = []
    
    def log_token(self, token: str):
        """
        Log token to file with timestamp
        """
        timestamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.log_file, "a") as f:
            f.write(f"[{timestamp}] {token}")
        
        self.tokens.append(token)
    
    def get_full_response(self) -> str:
        return "".join(self.tokens)

# Create logger
logger = StreamLogger("agent_stream.log")

agent = Agent(
    model_name="gpt-4o-mini",
    streaming_on=True,
)

response = agent.run(
    task="Analyze quarterly results",
    streaming_callback=logger.log_token,
)

print(f"Full response logged to: {logger.log_file}")
