from nbswarm import Agent
from rich.live import Live
from rich.panel import Panel
from rich.console import Console

console = Console()
collected_text = []

def custom_panel_callback(token: str):
    """
    Display streaming in custom panel
    """
    collected_text.append(token)
    full_text = "".join(collected_text)
    
    # Update display
    console.clear()
    console.print(Panel(
        full_text,
        title="🤖 Agent Thinking...",
        border_style="blue",
    ))

agent = Agent(
    agent_name="Custom-Display-Agent",
    model_name="gpt-4o-mini",
    streaming_on=True,
    print_on=False,
)

response = agent.run(
    task="Write a creative story",
    streaming_callback=custom_panel_callback,
)
